"""Meta-tests: the plugin API, its tests and its documentation stay in step.

* every hook in :mod:`paradime.hookspecs` and every operation of ``Runner`` / ``Lister`` has a
  test here, registered with :func:`covers_hook` / :func:`covers_operation` (a new hook or method
  without one fails :func:`test_every_hook_has_a_test`);
* every hook's and operation's exact signature, every field of the declaration classes and every
  status appear in ``docs/plugins.md``;
* every command's ``--help`` runs: the top-level ones and every installed command, hidden aliases
  included.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from paradime import api, hookimpl, hookspecs
from paradime.api import (
    Column,
    ListCommand,
    Lister,
    RunError,
    Runner,
    RunResult,
    RunState,
    RunStatus,
    TargetOption,
    TriggerCommand,
)
from paradime.plugins import PluginManager, set_manager
from paradime.testing import run_cli
from paradime.testing.scripted import ScriptedProvider

DOCS = Path(__file__).resolve().parents[2] / "docs" / "plugins.md"

HOOKS = sorted(name for name, obj in vars(hookspecs).items() if hasattr(obj, "paradime_spec"))
OPERATIONS = sorted(
    f"{cls.__name__}.{name}"
    for cls in (Runner, Lister)
    for name, member in vars(cls).items()
    if not name.startswith("_") and inspect.isfunction(member)
)
DECLARATIONS = (
    api.Option,
    api.TargetOption,
    api.Choice,
    api.TriggerCommand,
    api.ListCommand,
    api.TriggerDisplay,
    api.ListDisplay,
    api.Column,
    api.RunState,
    api.RunResult,
    api.RunContext,
)

TESTED_HOOKS: dict[str, list[str]] = {}
TESTED_OPERATIONS: dict[str, list[str]] = {}


def covers_hook(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Mark a test as testing the hook ``name``."""

    def mark(test: Callable[..., Any]) -> Callable[..., Any]:
        TESTED_HOOKS.setdefault(name, []).append(test.__name__)
        return test

    return mark


def covers_operation(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Mark a test as testing the operation ``Runner.poll`` (say)."""

    def mark(test: Callable[..., Any]) -> Callable[..., Any]:
        TESTED_OPERATIONS.setdefault(name, []).append(test.__name__)
        return test

    return mark


def signature_text(function: Callable[..., Any]) -> str:
    """The signature as the source spells it (annotations are strings under PEP 563)."""
    return str(inspect.signature(function)).replace("'", "")


# -- a small provider for the hook tests -----------------------------------------------------
class Runs(Runner):
    """``now`` succeeds in the trigger call, ``later`` at the first poll, ``never`` runs on."""

    def __init__(self, log: list[str]) -> None:
        self.log = log

    def trigger(self, target: str) -> RunState:
        self.log.append(f"trigger {target}")
        if target == "now":
            return RunState(RunStatus.SUCCEEDED, run_id="run-now")
        return RunState(
            RunStatus.RUNNING,
            run_id=f"run-{target}",
            console_url=f"https://example.test/{target}",
            handle={"started": target},
        )

    def poll(self, target: str, state: RunState) -> RunState:
        self.log.append(f"poll {target} {state.handle}")
        if target == "never":
            return RunState(RunStatus.RUNNING)
        return RunState(RunStatus.SUCCEEDED)

    def cancel(self, target: str, state: RunState, reason: str) -> RunState:
        self.log.append(f"cancel {target}: {reason}")
        return RunState(RunStatus.STOPPED)

    def close(self) -> None:
        self.log.append("close")


class TriggerOnly(Runner):
    """A runner written against an older API: only ``trigger``."""

    def trigger(self, target: str) -> RunState:
        if target == "now":
            return RunState(RunStatus.SUCCEEDED, run_id="run-now")
        return RunState(RunStatus.RUNNING, run_id=f"run-{target}")


class Provider:
    """Declares ``meta-run`` (alias ``meta-old-run``), ``meta-basic-run`` and ``meta-list``."""

    __name__ = "meta"

    def __init__(self) -> None:
        self.log: list[str] = []
        self.finished: list[tuple[str, list[tuple[str, str]], int]] = []
        self.declared = 0

    @hookimpl
    def paradime_register_commands(self, register: Callable[[Any], None]) -> None:
        self.declared += 1
        target = TargetOption("--job", "A job.")
        register(
            TriggerCommand(
                name="meta-run",
                help="Run jobs.",
                provider="meta",
                service="meta",
                target=target,
                factory=lambda params, context: Runs(self.log),
                aliases=("meta-old-run",),
            )
        )
        register(
            TriggerCommand(
                name="meta-basic-run",
                help="Run jobs with a trigger-only runner.",
                provider="meta",
                service="meta",
                target=target,
                factory=lambda params, context: TriggerOnly(),
            )
        )
        register(
            ListCommand(
                name="meta-list",
                help="List jobs.",
                provider="meta",
                columns=(Column("name", "NAME"),),
                factory=lambda params, context: Listing(),
            )
        )

    @hookimpl
    def paradime_run_finished(
        self, command: str, results: Sequence[RunResult], exit_code: int
    ) -> None:
        self.finished.append((command, [(r.target, r.status.value) for r in results], exit_code))


class Listing(Lister):
    def list(self) -> Any:
        yield {"name": "first"}
        yield {"name": "second", "ignored": "not a column"}


@pytest.fixture
def meta(paradime_register: Any, fast_polling: Any) -> Provider:
    provider = Provider()
    paradime_register(provider)
    return provider


def run(*args: str) -> Any:
    return run_cli(["run", *args], env={"NO_COLOR": "1"})


# -- paradime_register_commands --------------------------------------------------------------
@covers_hook("paradime_register_commands")
def test_hook_register_commands_adds_the_declared_commands(meta):
    listing = run("--help")
    assert listing.exit_code == 0
    for name in ("meta-run", "meta-basic-run", "meta-list"):
        assert name in listing.stdout
    assert "meta-old-run" not in listing.stdout  # aliases are hidden
    assert run("meta-run", "--job", "now").exit_code == 0
    assert run("meta-old-run", "--job", "now").exit_code == 0
    assert meta.declared == 1  # once per process, however many commands are looked up


@covers_hook("paradime_register_commands")
def test_hook_register_commands_refuses_a_name_another_provider_took(paradime_register):
    class Thief(Provider):
        __name__ = "thief"

    # pluggy's call order decides, as for every hook: the last registered is asked first.
    first, second = Thief(), Provider()
    paradime_register(first, second)
    result = run("--help")
    assert result.exit_code == 0
    assert result.stderr.splitlines() == [
        f"Warning: command '{name}' of provider 'thief' is already registered by provider "
        "'meta'; ignored"
        for name in ("meta-run", "meta-basic-run", "meta-list")
    ]


@covers_hook("paradime_register_commands")
def test_hook_register_commands_ignores_what_is_not_a_command(paradime_register):
    class Confused:
        __name__ = "confused"

        @hookimpl
        def paradime_register_commands(self, register: Callable[[Any], None]) -> None:
            register("meta-run")

    paradime_register(Confused(), Provider())
    result = run("--help")
    assert result.exit_code == 0
    assert "provider 'confused' registered 'meta-run', which is not a command" in result.stderr
    assert "meta-run" in result.stdout


# -- paradime_run_finished -------------------------------------------------------------------
@covers_hook("paradime_run_finished")
def test_hook_run_finished_sees_the_results_in_target_order_and_the_exit_code(meta):
    assert run("meta-old-run", "--job", "later,now").exit_code == 0
    assert meta.finished == [("meta-run", [("later", "SUCCEEDED"), ("now", "SUCCEEDED")], 0)]


@covers_hook("paradime_run_finished")
def test_hook_run_finished_is_called_after_a_timeout(meta):
    result = run("meta-run", "--job", "never", "--timeout-minutes", "0.005")
    assert result.exit_code == 1
    assert meta.finished == [("meta-run", [("never", "TIMED_OUT")], 1)]


@covers_hook("paradime_run_finished")
def test_hook_run_finished_is_not_called_for_a_usage_error(meta):
    assert run("meta-run", "--job", "").exit_code == 2
    assert meta.finished == []


@covers_hook("paradime_run_finished")
def test_hook_run_finished_failing_changes_nothing_for_the_exit_code_or_others(
    meta, paradime_register
):
    class Failing:
        __name__ = "failing"

        @hookimpl
        def paradime_run_finished(self) -> None:
            raise RuntimeError("notifier down")

    paradime_register(meta, Failing())
    result = run("meta-run", "--job", "now")
    assert result.exit_code == 0
    warning = "a paradime_run_finished hook failed (provider 'failing'): notifier down"
    assert warning in result.stderr
    assert meta.finished == [("meta-run", [("now", "SUCCEEDED")], 0)]  # the others still ran


@covers_hook("paradime_run_finished")
def test_hook_implementations_may_accept_fewer_arguments_than_the_spec(meta, paradime_register):
    seen: list[int] = []

    class Minimal:
        __name__ = "minimal"

        @hookimpl
        def paradime_run_finished(self, exit_code: int) -> None:
            seen.append(exit_code)

    paradime_register(meta, Minimal())
    run("meta-run", "--job", "now")
    assert seen == [0]


@covers_hook("paradime_run_finished")
def test_a_wrapper_implementation_wraps_each_call_through_pluggy(meta, paradime_register):
    """``wrapper=True`` works as pluggy documents it: core calls hooks through pluggy."""
    seen: list[str] = []

    class Auditing:
        __name__ = "auditing"

        @hookimpl(wrapper=True)
        def paradime_run_finished(self, command: str) -> Any:
            seen.append(f"before {command}")
            result = yield
            seen.append(f"after {command}")
            return result

    paradime_register(meta, Auditing())
    assert run("meta-run", "--job", "now").exit_code == 0
    assert seen == ["before meta-run", "after meta-run"]
    assert meta.finished == [("meta-run", [("now", "SUCCEEDED")], 0)]


@covers_hook("paradime_register_commands")
def test_core_fills_in_the_provider_of_each_command(paradime_register):
    class Anonymous:
        __name__ = "anonymous"

        @hookimpl
        def paradime_register_commands(self, register: Callable[[Any], None]) -> None:
            register(
                ListCommand(
                    name="anonymous-list",
                    help="List.",
                    columns=(Column("name", "NAME"),),
                    factory=lambda params, context: Listing(),
                )
            )

    manager = paradime_register(Anonymous())
    assert manager.collect_commands()["anonymous-list"].provider == "anonymous"


def test_a_required_option_is_a_usage_error_when_missing_and_read_from_its_variable(
    paradime_register,
):
    built: list[Any] = []

    class Needs:
        __name__ = "needs"

        @hookimpl
        def paradime_register_commands(self, register: Callable[[Any], None]) -> None:
            register(
                ListCommand(
                    name="needs-list",
                    help="List.",
                    columns=(Column("name", "NAME"),),
                    options=(api.Option("--api-key", "Key.", envvar="NEEDS_KEY", required=True),),
                    factory=lambda params, context: built.append(params) or Listing(),
                )
            )

    paradime_register(Needs())
    missing = run_cli(["run", "needs-list"], env={"NEEDS_KEY": None})
    assert missing.exit_code == 2
    assert missing.stderr.strip() == "Error: missing option '--api-key' (or set NEEDS_KEY)"
    assert built == []  # refused before the factory
    assert "[required]" in run_cli(["run", "needs-list", "--help"]).stdout
    given = run_cli(["run", "needs-list"], env={"NEEDS_KEY": "k-123"})
    assert given.exit_code == 0, given.stderr
    assert built == [{"api_key": "k-123"}]


# -- versioning ------------------------------------------------------------------------------
def test_a_hook_newer_than_core_can_be_implemented_as_optional(meta, paradime_register):
    class FromTheFuture:
        __name__ = "future"

        @hookimpl(optionalhook=True)
        def paradime_hook_of_a_later_version(self, anything: Any) -> None:
            raise AssertionError("never called by this core")

    manager = paradime_register(meta, FromTheFuture())
    assert manager.pm.get_plugin("future") is not None
    assert run("meta-run", "--job", "now").exit_code == 0


# -- Runner and Lister operations -----------------------------------------------------------
@covers_operation("Runner.trigger")
def test_trigger_returning_a_final_state_needs_no_poll(meta):
    result = run("meta-run", "--job", "now", "--json")
    assert result.json["results"][0]["run_id"] == "run-now"
    assert meta.log == ["trigger now", "close"]


@covers_operation("Runner.poll")
def test_poll_gets_the_handle_and_keeps_run_id_and_console_url_it_leaves_empty(meta):
    result = run("meta-run", "--job", "later", "--json")
    row = result.json["results"][0]
    assert row["status"] == "SUCCEEDED"
    assert row["run_id"] == "run-later"
    assert row["console_url"] == "https://example.test/later"
    assert "poll later {'started': 'later'}" in meta.log


@covers_operation("Runner.cancel")
def test_cancel_is_called_only_with_cancel_on_exit_and_gets_the_reason(meta):
    run("meta-run", "--job", "never", "--timeout-minutes", "0.005")
    assert not any(line.startswith("cancel") for line in meta.log)
    run("meta-run", "--job", "never", "--timeout-minutes", "0.005", "--cancel-on-exit")
    [cancel] = [line for line in meta.log if line.startswith("cancel")]
    assert cancel == "cancel never: still running at the 0.005-minute timeout"


@covers_operation("Runner.cancel")
def test_a_runner_without_cancel_is_reported_as_not_stoppable(meta):
    result = run(
        "meta-basic-run", "--job", "x", "--timeout-minutes", "0.005", "--cancel-on-exit", "--json"
    )
    row = result.json["results"][0]
    assert row["status"] == "TIMED_OUT"
    assert "TriggerOnly cannot stop runs" in row["error"]


@covers_operation("Runner.close")
def test_close_is_called_once_when_the_command_ends(meta):
    run("meta-run", "--job", "now,later,never", "--timeout-minutes", "0.005")
    assert meta.log.count("close") == 1
    assert meta.log[-1] == "close"


@covers_operation("Runner.trigger")
@covers_operation("Runner.poll")
def test_a_runner_written_before_new_methods_existed_still_runs(meta):
    result = run("meta-basic-run", "--job", "now", "--json")
    assert result.exit_code == 0
    assert result.statuses == {"now": "SUCCEEDED"}


@covers_operation("Lister.list")
def test_list_may_yield_rows_and_only_the_columns_are_shown(meta):
    table = run("meta-list")
    assert table.exit_code == 0
    assert "second" in table.stdout and "not a column" not in table.stdout
    assert [row["name"] for row in run("meta-list", "--json").json] == ["first", "second"]


@covers_operation("Runner.prepare")
@covers_operation("Runner.start")
@covers_operation("Runner.recover")
def test_a_stepped_trigger_is_looked_up_started_and_recovered_by_core(scripted):
    """(More in test_engine_steps.py.) The look-ups' choices reach start, and a lost start
    answer is looked for before anything is sent again."""
    result = run_cli(["run", "scripted-steps", "--job", "ok,lost-1", "--json"])
    assert result.exit_code == 0, result.stderr
    assert scripted.calls.prepares == {"ok": 1, "lost-1": 1}
    assert scripted.calls.recovers == {"lost-1": 1}
    assert scripted.calls.starts == {"ok": 1, "lost-1": 1}


@covers_operation("Lister.page")
@covers_operation("Lister.close")
def test_a_paged_lister_is_read_page_by_page_and_closed(scripted):
    result = run_cli(["run", "scripted-list", "--json"])
    assert [row["name"] for row in result.json] == [f"job-{i}" for i in range(9)]
    assert scripted.calls.pages_read == [0, 1, 2]


# -- the registries are complete ------------------------------------------------------------
def test_every_hook_has_a_test():
    assert HOOKS, "no hook specs found"
    untested = [name for name in HOOKS if name not in TESTED_HOOKS]
    assert not untested, f"hooks without a test in {__name__}: {untested}"
    assert set(TESTED_HOOKS) <= set(HOOKS), "a test names a hook that is not in the spec"


def test_every_operation_has_a_test():
    untested = [name for name in OPERATIONS if name not in TESTED_OPERATIONS]
    assert not untested, f"operations without a test: {untested}"
    assert set(TESTED_OPERATIONS) <= set(OPERATIONS)


# -- the documentation is complete ----------------------------------------------------------
@pytest.fixture(scope="module")
def docs() -> str:
    return DOCS.read_text(encoding="utf-8")


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_signature_is_documented(docs, hook):
    expected = f"def {hook}{signature_text(getattr(hookspecs, hook))}"
    assert expected in docs


@pytest.mark.parametrize("operation", OPERATIONS)
def test_every_operation_signature_is_documented(docs, operation):
    cls_name, name = operation.split(".")
    method = getattr(getattr(hookspecs, cls_name), name)
    assert f"def {name}{signature_text(method)}" in docs


@pytest.mark.parametrize("cls", DECLARATIONS, ids=lambda cls: cls.__name__)
def test_every_field_of_the_declaration_classes_is_documented(docs, cls):
    assert f"class {cls.__name__}" in docs
    missing = [
        f"{field.name}: {field.type}"
        for field in dataclasses.fields(cls)
        if f"{field.name}: {field.type}" not in docs
    ]
    assert not missing, f"{cls.__name__} fields missing from {DOCS.name}: {missing}"


def test_run_error_parameters_are_documented(docs):
    parameters = list(inspect.signature(RunError).parameters.values())
    missing = [
        f"{p.name}: {p.annotation}" for p in parameters if f"{p.name}: {p.annotation}" not in docs
    ]
    assert not missing


def test_every_status_is_documented(docs):
    assert [s.value for s in RunStatus if f"`{s.value}`" not in docs] == []


def test_the_plugin_environment_variables_are_documented(docs):
    for name in ("PARADIME_LOAD_PLUGINS", "PARADIME_DISABLE_PLUGINS", "paradime.providers"):
        assert name in docs


# -- every command's --help runs ------------------------------------------------------------
def _installed_command_names() -> list[str]:
    manager = PluginManager()
    manager.load_entry_points()
    manager.collect_commands()
    return sorted([*manager.commands, *manager.aliases])


@pytest.mark.parametrize(
    "args", [["--help"], ["run", "--help"], ["providers", "--help"]], ids=" ".join
)
def test_top_level_help_runs(args):
    result = run_cli(args)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("Usage: paradime")


@pytest.mark.parametrize("name", _installed_command_names())
def test_every_installed_command_help_runs(name):
    set_manager(None)
    try:
        result = run_cli(["run", name, "--help"])
    finally:
        set_manager(None)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith(f"Usage: paradime run {name} [OPTIONS]")
    assert "Traceback" not in result.stderr


IN_PROCESS_COMMANDS = [
    "meta-basic-run",
    "meta-list",
    "meta-old-run",
    "meta-run",
    "scripted-list",
    "scripted-run",
    "scripted-steps",
    "scripted-trigger",
]


@pytest.mark.parametrize("name", IN_PROCESS_COMMANDS)
def test_in_process_command_help_runs(paradime_register, name):
    paradime_register(ScriptedProvider(), Provider())
    result = run_cli(["run", name, "--help"])
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith(f"Usage: paradime run {name} [OPTIONS]")


def test_the_in_process_commands_checked_above_are_all_of_them(paradime_register):
    manager = paradime_register(ScriptedProvider(), Provider())
    manager.collect_commands()
    assert sorted([*manager.commands, *manager.aliases]) == IN_PROCESS_COMMANDS


# -- architecture --------------------------------------------------------------------------
def test_every_core_module_is_named_in_the_architecture_page():
    import paradime

    root = Path(paradime.__file__).resolve().parent
    page = (DOCS.parent / "architecture.md").read_text(encoding="utf-8")
    modules = sorted(
        "paradime"
        + ("." + ".".join(path.relative_to(root).with_suffix("").parts))
        .replace(".__init__", "")
        .rstrip(".")
        for path in root.rglob("*.py")
    )
    missing = [m for m in modules if f"`{m}`" not in page]
    assert modules and not missing, f"core modules missing from docs/architecture.md: {missing}"


def test_core_has_no_import_cycle():
    """Imports between core modules form no cycle: module-level ones, and also those inside
    functions or under TYPE_CHECKING (a lazy import still ties two modules together)."""
    import ast

    import paradime

    root = Path(paradime.__file__).resolve().parent
    graph: dict[str, set[str]] = {}
    for path in root.rglob("*.py"):
        name = ".".join(("paradime", *path.relative_to(root).with_suffix("").parts))
        name = name.removesuffix(".__init__")
        edges = graph.setdefault(name, set())
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.ImportFrom)
                and node.module
                and node.module.startswith("paradime")
            ):
                edges.add(node.module)
                edges.update(f"{node.module}.{alias.name}" for alias in node.names)
            elif isinstance(node, ast.Import):
                edges.update(a.name for a in node.names if a.name.startswith("paradime"))
    for name in graph:
        graph[name] = {e for e in graph[name] if e in graph and e != name}

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        for nxt in graph[start]:
            if nxt == goal or (nxt not in seen and reaches(nxt, goal, seen | {nxt})):
                return True
        return False

    cycles = [name for name in graph if reaches(name, name, set())]
    # ``paradime`` (the package) imports ``paradime.api`` for providers' convenience; a module
    # importing ``paradime`` itself would be the only way back, and none does.
    assert not cycles, f"import cycles through: {cycles}"


def test_every_test_has_a_timeout(request):
    """A test stuck in a wait fails after a bounded time (pytest-timeout, configured in the
    workspace's pytest settings and installed in every tox env) instead of holding the CI job."""
    assert request.config.pluginmanager.hasplugin("timeout")
    seconds = float(request.config.getini("timeout"))
    assert 0 < seconds <= 300
    marker = request.node.get_closest_marker("timeout")
    assert marker is None  # the configured value applies, not a per-test exception
    tox = (Path(__file__).resolve().parents[2] / "tox.ini").read_text(encoding="utf-8")
    envs = [line for line in tox.splitlines() if line.startswith("[testenv:")]
    assert envs and tox.count("{[testenv]deps}") == len(envs)
    assert "pytest-timeout" in tox.split("[testenv:")[0]


def test_the_plugin_api_module_exports_every_public_name():
    """``paradime.api`` is the one module providers import: every public class or function of
    the internal modules it is made of is in its ``__all__``, the same object."""
    from paradime import declarations, idempotency, operations, outcomes

    parts = (outcomes, operations, declarations, idempotency)
    public = {
        name: obj
        for part in parts
        for name, obj in vars(part).items()
        if not name.startswith("_")
        and (inspect.isclass(obj) or inspect.isfunction(obj))
        and getattr(obj, "__module__", "") == part.__name__
    }
    assert len(public) > 20
    assert set(public) <= set(api.__all__), sorted(set(public) - set(api.__all__))
    assert all(getattr(api, name) is obj for name, obj in public.items())
    assert all(hasattr(api, name) for name in api.__all__)
    assert {"Runner", "Lister", "hookimpl", "TriggerCommand", "RunState"} <= set(api.__all__)
