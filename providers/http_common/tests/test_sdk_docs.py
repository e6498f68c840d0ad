"""docs/http-sdk.md runs as written (its blocks in order, in one namespace), and uses every
public name of the SDK: each name in a module's ``__all__`` appears in a block that ran."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

DOCS = Path(__file__).resolve().parents[3] / "docs" / "http-sdk.md"
MODULES = ["auth", "client", "display", "errors", "fake", "options", "pages", "tokens"]


def test_every_example_runs_and_every_public_name_is_shown():
    blocks = re.findall(r"```python\n(.*?)```", DOCS.read_text(encoding="utf-8"), re.S)
    namespace: dict[str, object] = {"__name__": "http_sdk_docs"}
    for index, code in enumerate(blocks):
        exec(compile(code, f"docs/http-sdk.md example {index + 1}", "exec"), namespace)
    shown = "\n".join(blocks)
    missing = [
        f"paradime_http.{name}.{public}"
        for name in MODULES
        for public in importlib.import_module(f"paradime_http.{name}").__all__
        if not re.search(rf"\b{public}\b", shown)
    ]
    assert missing == []
