"""Every example of docs/testing.md runs as written: plain blocks in this process, a block that
is a pytest module (it starts with ``# test_...py``) through pytest in a subprocess."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[2] / "docs" / "testing.md"
BLOCKS = re.findall(r"```python\n(.*?)```", DOCS.read_text(encoding="utf-8"), re.S)


def test_the_page_has_examples():
    assert len(BLOCKS) >= 4


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_example_runs(index, tmp_path):
    code = BLOCKS[index]
    first = code.splitlines()[0]
    if re.fullmatch(r"# test_\w+\.py", first):
        module = tmp_path / first[2:]
        module.write_text(code, encoding="utf-8")
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(module)],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        assert " passed" in done.stdout
        return
    exec(compile(code, f"docs/testing.md example {index + 1}", "exec"), {"__name__": "example"})
