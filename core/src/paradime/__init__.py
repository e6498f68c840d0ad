"""paradime: trigger jobs in other systems, wait for them, and report truthfully.

The plugin API lives in :mod:`paradime.hookspecs` (hooks and operations) and :mod:`paradime.api`
(the data providers declare and return). Importing this package imports nothing heavy.
"""

from __future__ import annotations

__version__ = "7.0.0"
__all__ = ["__version__", "hookimpl"]

from paradime.hookspecs import hookimpl
