"""Test-only helpers of the e2e packages; the pytest plugin is ``e2e_testing.plugin``."""

from e2e_testing.__about__ import __version__

__all__ = ["__version__"]
