"""docs/architecture.md's claims about core, checked against the code: which core modules each
module imports, which modules are internal, what ``paradime run --help`` loads."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import paradime

ROOT = Path(paradime.__file__).resolve().parent
DOCS = Path(__file__).resolve().parents[2] / "docs"


def core_modules() -> dict[str, Path]:
    modules = {}
    for path in sorted(ROOT.rglob("*.py")):
        name = ".".join(("paradime", *path.relative_to(ROOT).with_suffix("").parts))
        modules[name.removesuffix(".__init__")] = path
    return modules


def imports_of(path: Path, modules: dict[str, Path]) -> tuple[set[str], set[str]]:
    """The core modules ``path`` imports when loaded, and those it imports only inside a
    function or under ``TYPE_CHECKING`` (not also when loaded)."""
    loaded: set[str] = set()
    later: set[str] = set()

    def visit(node: ast.AST, deferred: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inner = deferred or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                inner = True
            found: list[str] = []
            if isinstance(child, ast.ImportFrom) and (child.module or "").startswith("paradime"):
                module = child.module or ""
                for alias in child.names:
                    whole = f"{module}.{alias.name}"
                    found.append(whole if whole in modules else module)
            elif isinstance(child, ast.Import):
                found += [a.name for a in child.names if a.name.split(".")[0] == "paradime"]
            (later if inner else loaded).update(found)
            visit(child, inner)

    visit(ast.parse(path.read_text(encoding="utf-8")), False)
    return loaded, later - loaded


def documented_dependencies() -> dict[str, tuple[set[str], set[str]]]:
    page = (DOCS / "architecture.md").read_text(encoding="utf-8")
    section = page.split("### Dependencies between core modules", 1)[1].split("\n## ", 1)[0]
    table: dict[str, tuple[set[str], set[str]]] = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 3 or not cells[0].startswith("`paradime"):
            continue

        def names(cell: str) -> set[str]:
            return {
                "paradime" if n == "paradime" else f"paradime.{n}"
                for n in re.findall(r"`([\w.]+)`", cell)
            }

        table[cells[0].strip("`")] = (names(cells[1]), names(cells[2]))
    return table


def test_the_architecture_page_states_every_core_import():
    modules = core_modules()
    actual = {}
    for name, path in modules.items():
        loaded, later = imports_of(path, modules)
        loaded.discard(name)
        later.discard(name)
        if loaded or later:
            actual[name] = (loaded, later)
    assert actual, "no imports found"
    assert documented_dependencies() == actual


def public_modules() -> list[str]:
    """The stable surface, as docs/plugins.md's versioning section states it."""
    page = (DOCS / "plugins.md").read_text(encoding="utf-8")
    section = page.split("## Versioning of the plugin API", 1)[1].split("\n\n", 2)[1]
    return re.findall(r"`(paradime(?:\.[\w.]+)?)`", section)


def test_every_core_module_is_public_or_says_it_is_internal():
    public = public_modules()
    assert {"paradime.api", "paradime.hookspecs", "paradime.testing"} <= set(public)
    unmarked = []
    for name, path in core_modules().items():
        stated = name in public or any(name.startswith(f"{p}.") for p in public if p != "paradime")
        docstring = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
        internal = docstring.startswith("Internal")
        if stated == internal:  # public and marked internal, or neither
            unmarked.append(name)
    assert not unmarked, f"state these as public (plugins.md) or internal (docstring): {unmarked}"


def test_the_internal_modules_are_marked_so_in_the_module_table():
    page = (DOCS / "architecture.md").read_text(encoding="utf-8")
    for name, path in core_modules().items():
        docstring = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
        if docstring.startswith("Internal"):
            assert re.search(rf"^\| `{re.escape(name)}` \| \*internal\*", page, re.M), name


HELP_LOADS = """
import sys
from paradime.cli import main
sys.argv = ["paradime", "run", "--help"]
try:
    main()
except SystemExit:
    pass
print(" ".join(sorted(m for m in sys.modules if m.startswith("paradime."))), file=sys.stderr)
"""


def test_run_help_loads_neither_the_engine_nor_the_output():
    done = subprocess.run(
        [sys.executable, "-c", HELP_LOADS], capture_output=True, text=True, timeout=60
    )
    loaded = set(done.stderr.split())
    assert {"paradime.runs", "paradime.api"} <= loaded, done.stderr
    not_loaded = {"engine", "lifecycle", "output", "results", "polling", "workers", "endings"}
    assert not loaded & {f"paradime.{m}" for m in not_loaded}
