"""The quickstart at the top of docs/plugins.md is a complete provider: its block, as written,
registered and run through the CLI."""

from __future__ import annotations

import re
import types
from pathlib import Path

DOCS = Path(__file__).resolve().parents[1] / "docs" / "plugins.md"


def test_the_quickstart_provider_runs(paradime_register, paradime_cli, fast_polling):
    text = DOCS.read_text(encoding="utf-8")
    quickstart = text.split("## Quickstart", 1)[1].split("## The guide", 1)[0]
    [code] = re.findall(r"```python\n(.*?)```", quickstart, re.S)
    assert len(code.splitlines()) <= 35
    module = types.ModuleType("hello_provider")
    exec(compile(code, "docs/plugins.md quickstart", "exec"), module.__dict__)
    paradime_register(module)
    result = paradime_cli(["run", "hello-run", "--name", "world", "--name", "moon", "--json"])
    assert result.exit_code == 0, result.stderr
    assert result.statuses == {"world": "SUCCEEDED", "moon": "SUCCEEDED"}
