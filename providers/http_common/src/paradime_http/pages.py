"""Every item of a paged list, one request per page: offset/limit, cursor, and next-link paging.

Each helper is a generator over the items, for a :class:`~paradime.api.Lister`'s ``list()``
(``yield from cursor_pages(...)``). Item and cursor locations are dotted paths into the page
document (:func:`~paradime_http.errors.dig`): ``"data"``, ``"meta.next_cursor"``. A page that
hands back a cursor or link already followed ends the list with an error instead of looping.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import urljoin, urlsplit

from paradime_http.client import HttpApi
from paradime_http.errors import ApiError, dig

__all__ = ["cursor_pages", "next_link_pages", "offset_pages"]

_LINK_NEXT = re.compile(r'<([^>]*)>\s*;[^,]*\brel="?next"?', re.I)


def _items(page: Any, items: str, doing: str) -> list[Any]:
    found = dig(page, items)
    if not isinstance(found, list):
        raise ApiError(f"{doing}: the answer has no list at '{items}'", kind="invalid_answer")
    return found


def offset_pages(
    api: HttpApi,
    path: str,
    *,
    doing: str,
    items: str = "items",
    limit: int = 100,
    params: Mapping[str, Any] | None = None,
    offset_param: str = "offset",
    limit_param: str = "limit",
) -> Iterator[Any]:
    """``?offset=0&limit=100``, then ``offset=100``...: pages end with one shorter than
    ``limit``."""
    offset = 0
    while True:
        query = {**(params or {}), offset_param: offset, limit_param: limit}
        rows = _items(api.get(path, doing=doing, params=query), items, doing)
        yield from rows
        if len(rows) < limit:
            return
        offset += len(rows)


def cursor_pages(
    api: HttpApi,
    path: str,
    *,
    doing: str,
    items: str = "items",
    cursor: str = "next_cursor",
    cursor_param: str = "cursor",
    params: Mapping[str, Any] | None = None,
) -> Iterator[Any]:
    """The first page, then ``?cursor=<the page's cursor>`` until a page has none (missing,
    ``null`` or ``""``)."""
    seen: set[str] = set()
    query = dict(params or {})
    while True:
        page = api.get(path, doing=doing, params=query)
        yield from _items(page, items, doing)
        after = dig(page, cursor)
        if after in (None, ""):
            return
        if str(after) in seen:
            raise ApiError(f"{doing}: the API sent cursor {after!r} twice", kind="invalid_answer")
        seen.add(str(after))
        query[cursor_param] = after


def next_link_pages(
    api: HttpApi,
    path: str,
    *,
    doing: str,
    items: str = "items",
    next: str | None = "next",
    params: Mapping[str, Any] | None = None,
) -> Iterator[Any]:
    """The first page, then the URL the page names at ``next`` (absolute or relative to the
    base URL), or with ``next=None`` the ``Link: <...>; rel="next"`` header (RFC 8288), until
    there is none. A link to another host ends the list with an error: credentials are never
    sent anywhere but the base URL's host."""
    seen: set[str] = set()
    url, query = path, params
    while True:
        answer = api.request("GET", url, doing=doing, params=query)
        yield from _items(answer.document, items, doing)
        if next is None:
            match = _LINK_NEXT.search(answer.headers.get("link", ""))
            link = match.group(1) if match else None
        else:
            link = dig(answer.document, next)
        if not link:
            return
        url = urljoin(api.base_url + "/", str(link))
        if urlsplit(url).netloc != urlsplit(api.base_url).netloc:
            raise ApiError(
                f"{doing}: the next page is on another host ({url})", kind="invalid_answer"
            )
        if url in seen:
            raise ApiError(f"{doing}: the API sent the link {url} twice", kind="invalid_answer")
        seen.add(url)
        query = None  # the link carries the query
