"""The continuous training pipeline and the ``e2e-train`` console script."""

from e2e_training.__about__ import __version__

__all__ = ["__version__"]
