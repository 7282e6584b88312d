"""Everything that needs torch and timm: token reduction, split execution, reconstruction, the accuracy
harness and the host profiler.

The only package of mercury-sim that imports torch and timm; nothing outside it imports this package at
module level, so ``import simulator`` and ``mercury-sim --help`` stay torch-free.
"""
