"""HTTP plumbing shared by the paradime providers of JSON HTTP APIs (Fivetran, Airbyte).

* :mod:`paradime_http_common.options`: option parsing for declarations (imports no httpx);
* :mod:`paradime_http_common.client`: :class:`~paradime_http_common.client.HttpApi`, the one
  client setup (imports httpx: use it in runners, which are imported when a command runs);
* :mod:`paradime_http_common.tokens`: :class:`~paradime_http_common.tokens.TokenAuth`, an
  access token the API issues, shared by every thread and refreshed before it expires;
* :mod:`paradime_http_common.errors`: the one mapping of HTTP answers and network faults to
  :class:`~paradime.api.RunError`;
* :mod:`paradime_http_common.fake`: the base of stateful fake APIs for tests and demos.
"""

from __future__ import annotations

from paradime_http_common.options import parse_base_url

__all__ = ["parse_base_url"]
