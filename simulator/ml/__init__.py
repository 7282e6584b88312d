"""Token reduction, split execution and reconstruction on timm ViT/DeiT models (PyTorch).

The only package of mercury-sim that imports torch and timm; nothing outside it imports this package
at module level, so ``import simulator`` and ``mercury-sim --help`` stay torch-free.
"""
