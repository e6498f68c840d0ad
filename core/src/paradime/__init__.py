"""paradime: trigger jobs in other systems, wait for them, and report truthfully.

The plugin API is one module, :mod:`paradime.api` (``from paradime import api``); the hook specs
are in :mod:`paradime.hookspecs`. Importing this package imports nothing heavy.
"""

from __future__ import annotations

__version__ = "7.3.0"
__all__ = ["__version__", "api", "hookimpl"]

from paradime import api
from paradime.api import hookimpl
