"""Option helpers for HTTP-API providers' declarations: no httpx here, so declaring is cheap."""

from __future__ import annotations

import urllib.parse

from paradime.api import Option, UsageError

__all__ = ["base_url_option", "parse_base_url"]


def parse_base_url(value: str) -> str:
    """An ``http(s)://host[:port][/path]`` URL without a trailing slash, or a usage error
    (exit 2 before any call): ``Option("--base-url", ..., parse=parse_base_url)``."""
    text = value.strip()
    try:
        parts = urllib.parse.urlsplit(text)
        port = parts.port  # raises ValueError for a port that is not a number or out of range
    except ValueError:
        raise UsageError(f"'{value}' is not a valid URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"'{value}' is not an http(s) URL")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise UsageError(f"'{value}': give the API's base URL, without credentials or a query")
    del port
    return text.rstrip("/")


def base_url_option(envvar: str, help: str = "Base URL of the API.") -> Option:
    """The required ``--base-url`` option, read from ``envvar`` when not given, checked by
    :func:`parse_base_url`: ``OPTIONS = (base_url_option("JOBAPI_BASE_URL"), ...)``."""
    return Option("--base-url", help, envvar=envvar, parse=parse_base_url, required=True)
