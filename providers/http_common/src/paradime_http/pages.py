"""Every item of a paged list, one request per page: offset/limit, cursor, and next-link paging.

For a :class:`~paradime.api.Lister`'s ``page(token)`` (plugin API 7.3), each paging style has
a function reading one page: ``return cursor_page(self.api, "/v1/items", token, doing=...)``.
It returns a :class:`~paradime.api.Page` whose ``next`` is the token of the following page
(opaque: hand it back as given), so that core reads every page and asks for a failed one again
(a 429 after its ``Retry-After``, a 5xx): a list is whole or an error. For a ``list()``, the
generators over every item (``yield from cursor_pages(...)``) read the pages in turn, without
retries. Item and cursor locations are dotted paths into the page document
(:func:`~paradime_http.errors.dig`): ``"data"``, ``"meta.next_cursor"``. A page that hands back
a cursor or link already followed ends the list with an error instead of looping.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any
from urllib.parse import urljoin, urlsplit

from paradime.api import Page
from paradime_http.client import HttpApi
from paradime_http.errors import ApiError, dig

__all__ = [
    "cursor_page",
    "cursor_pages",
    "next_link_page",
    "next_link_pages",
    "offset_page",
    "offset_pages",
]

_LINK_NEXT = re.compile(r'<([^>]*)>\s*;[^,]*\brel="?next"?', re.I)


def _items(page: Any, items: str, doing: str) -> list[Any]:
    found = dig(page, items)
    if not isinstance(found, list):
        raise ApiError(f"{doing}: the answer has no list at '{items}'", kind="invalid_answer")
    return found


def _every(read: Callable[[Any], Page]) -> Iterator[Any]:
    """The rows of every page ``read(token)`` gives, from the first to the one with no next."""
    token: Any = None
    while True:
        page = read(token)
        yield from page.rows
        if page.next is None:
            return
        token = page.next


def offset_page(
    api: HttpApi,
    path: str,
    token: Any,
    *,
    doing: str,
    items: str = "items",
    limit: int = 100,
    params: Mapping[str, Any] | None = None,
    offset_param: str = "offset",
    limit_param: str = "limit",
) -> Page:
    """One page at ``?offset=<token or 0>&limit=100``; the last page is shorter than
    ``limit``."""
    offset = int(token or 0)
    query = {**(params or {}), offset_param: offset, limit_param: limit}
    rows = _items(api.get(path, doing=doing, params=query), items, doing)
    return Page(rows, next=offset + len(rows) if len(rows) >= limit else None)


def offset_pages(api: HttpApi, path: str, *, doing: str, **options: Any) -> Iterator[Any]:
    """Every item, page after page of :func:`offset_page` (same options)."""
    return _every(lambda token: offset_page(api, path, token, doing=doing, **options))


def cursor_page(
    api: HttpApi,
    path: str,
    token: Any,
    *,
    doing: str,
    items: str = "items",
    cursor: str = "next_cursor",
    cursor_param: str = "cursor",
    params: Mapping[str, Any] | None = None,
) -> Page:
    """The first page (``token`` ``None``), or the one at ``?cursor=<the previous page's
    cursor>``; the last page has no cursor (missing, ``null`` or ``""``)."""
    followed: tuple[Any, ...] = token or ()
    query = dict(params or {})
    if followed:
        query[cursor_param] = followed[-1]
    page = api.get(path, doing=doing, params=query)
    rows = _items(page, items, doing)
    after = dig(page, cursor)
    if after in (None, ""):
        return Page(rows)
    if str(after) in map(str, followed):
        raise ApiError(f"{doing}: the API sent cursor {after!r} twice", kind="invalid_answer")
    return Page(rows, next=(*followed, after))


def cursor_pages(api: HttpApi, path: str, *, doing: str, **options: Any) -> Iterator[Any]:
    """Every item, page after page of :func:`cursor_page` (same options)."""
    return _every(lambda token: cursor_page(api, path, token, doing=doing, **options))


def next_link_page(
    api: HttpApi,
    path: str,
    token: Any,
    *,
    doing: str,
    items: str = "items",
    next: str | None = "next",
    params: Mapping[str, Any] | None = None,
) -> Page:
    """The first page (``token`` ``None``), or the one at the URL the previous page named at
    ``next`` (absolute or relative to the base URL), or with ``next=None`` in its
    ``Link: <...>; rel="next"`` header (RFC 8288); the last page names none. A link to another
    host ends the list with an error: credentials are never sent anywhere but the base URL's
    host."""
    followed: tuple[str, ...] = token or ()
    url, query = (followed[-1], None) if followed else (path, params)  # a link has its query
    answer = api.request("GET", url, doing=doing, params=query)
    rows = _items(answer.document, items, doing)
    if next is None:
        match = _LINK_NEXT.search(answer.headers.get("link", ""))
        link = match.group(1) if match else None
    else:
        link = dig(answer.document, next)
    if not link:
        return Page(rows)
    url = urljoin(api.base_url + "/", str(link))
    if urlsplit(url).netloc != urlsplit(api.base_url).netloc:
        raise ApiError(f"{doing}: the next page is on another host ({url})", kind="invalid_answer")
    if url in followed:
        raise ApiError(f"{doing}: the API sent the link {url} twice", kind="invalid_answer")
    return Page(rows, next=(*followed, url))


def next_link_pages(api: HttpApi, path: str, *, doing: str, **options: Any) -> Iterator[Any]:
    """Every item, page after page of :func:`next_link_page` (same options)."""
    return _every(lambda token: next_link_page(api, path, token, doing=doing, **options))
