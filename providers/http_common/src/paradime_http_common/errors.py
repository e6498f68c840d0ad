"""Former name of :mod:`paradime_http.errors` (the same module object): kept so that code written
for paradime-http-common 7.0 goes on working."""

import sys

import paradime_http.errors

sys.modules[__name__] = paradime_http.errors
