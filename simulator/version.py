"""The mercury-sim version, in a module of its own: every layer names it in what it writes (manifests, markers)
without importing the package's face, :mod:`simulator`, which re-exports it as ``simulator.__version__``."""

__version__ = "0.1.0"
