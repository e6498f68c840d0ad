"""Former name of :mod:`paradime_http` (paradime-http-common 7.0): ``paradime_http_common.X``
is the module ``paradime_http.X`` itself, so old imports keep working and see the same classes."""

from __future__ import annotations

from paradime_http import parse_base_url

__all__ = ["parse_base_url"]
