"""Shared contract, schemas, preprocessing and settings of the e2e tabular packages."""

from e2e_common.__about__ import __version__

__all__ = ["__version__"]
