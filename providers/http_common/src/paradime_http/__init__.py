"""paradime's SDK for providers of JSON HTTP APIs: public API, covered by the plugin API's
versioning promise (docs/versioning.md). The names each module lists in ``__all__`` are the
SDK; docs/http-sdk.md shows each one at work.

* :mod:`paradime_http.options`: ``--base-url`` parsing for declarations (imports no httpx);
* :mod:`paradime_http.display`: the console words HTTP trigger commands share;
* :mod:`paradime_http.client`: :class:`~paradime_http.client.HttpApi`, the one client setup
  (imports httpx: use it in runners, which are imported when a command runs);
* :mod:`paradime_http.auth`: Basic, Bearer, a token in any header, and token exchanges;
* :mod:`paradime_http.tokens`: :class:`~paradime_http.tokens.TokenAuth`, a token the API
  issues, shared by every thread and refreshed before it expires;
* :mod:`paradime_http.errors`: HTTP answers and network faults to :class:`~paradime.api.RunError`,
  with a hook for the service's error-document shape, and ``Retry-After``;
* :mod:`paradime_http.pages`: offset/limit, cursor and next-link paging;
* :mod:`paradime_http.fake`: the base of stateful fake APIs for tests and demos.
"""

from __future__ import annotations

from paradime_http.options import parse_base_url

__all__ = ["parse_base_url"]
