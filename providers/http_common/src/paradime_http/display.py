"""The console words the HTTP-API trigger commands share, declared once.

Each provider adds its own (heading, trigger lines, results title, first column) with
:func:`http_display`; failures read ``<Service> API error: <status>`` from the ``http_status``
detail that :class:`paradime_http.errors.ApiError` records.
"""

from __future__ import annotations

from typing import Any

from paradime.api import TriggerDisplay

__all__ = ["http_display"]


def http_display(service: str, **words: Any) -> TriggerDisplay:
    """A :class:`~paradime.api.TriggerDisplay` whose errors name ``service`` and the HTTP status."""
    shared: dict[str, Any] = {
        "error_label": f"{service} API error",
        "error_code_key": "http_status",
    }
    return TriggerDisplay(**{**shared, **words})
