"""Former name of :mod:`paradime_http.display` (the same module object): kept so that code written
for paradime-http-common 7.0 goes on working."""

import sys

import paradime_http.display

sys.modules[__name__] = paradime_http.display
