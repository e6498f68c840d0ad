"""Former name of :mod:`paradime_http.fake` (the same module object): kept so that code written
for paradime-http-common 7.0 goes on working."""

import sys

import paradime_http.fake

sys.modules[__name__] = paradime_http.fake
