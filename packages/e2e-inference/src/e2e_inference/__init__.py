"""Batch inference pipeline and the ``e2e-infer`` console script."""

from e2e_inference.__about__ import __version__

__all__ = ["__version__"]
