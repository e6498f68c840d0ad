"""A scripted provider: each target's name says how its run behaves.

For testing the engine and the CLI without any remote system, in-process or through the real
console script (an entry point pointing at :data:`provider`). ``ok`` succeeds at the first poll,
``ok-3`` after three polls, ``sync`` succeeds in the trigger call, ``fail`` fails, ``rejected``
cannot be triggered, ``throttle-2`` is throttled twice before it starts, ``throttle-forever``
always is, ``hang`` never ends, ``pollerr-2`` has two failed status checks (``pollerr-forever``
only failures), ``crash`` raises an unexpected exception, ``slow-0.3`` takes 0.3 s to trigger
(``slow-0.3-7``: the same, under another name; ``slow-0.3-sync`` then succeeds in it),
``joined`` starts with a message (as a provider joining a run already in progress would),
``pages-20`` asks the rate cap for 20 further requests in its first poll (as a poll that follows
pages does) and succeeds.

For interrupts and stops: ``sigint`` sends SIGINT to this process from its trigger call (which
then takes 1 s more and starts a run that never ends); ``poll-sigint`` sends it from its first
status check, which then answers, 0.5 s later, that the run succeeded; ``ambiguous-2``'s first
two starts fail in a way that may have started the run (retryable, naming the run and its
execution name, as a provider with idempotent starts does); ``ends-on-stop`` never ends, and its
stop request answers that it had just succeeded.

``scripted-steps`` runs the same targets through the stepped trigger (look-ups, one start,
recovery), with more names: ``lookup-0.5`` takes 0.5 s in its look-ups (``lookup-sigint`` sends
SIGINT from them); ``lost-2``'s first two starts make the run and lose the answer
(``lost-fail``: the run it made has failed by the time it is looked for; ``lost-norun-2``: the
first two lose the request, and make nothing); ``lost-blind`` loses its answer and its look-up
fails for good; ``gone-3`` is "not found" by its first three status checks (a lagging read).
``Calls.prepares`` and ``Calls.recovers`` count those steps; every run's execution name is chosen
in the look-ups (``Prepared.run_id`` ``name-<target>``).

Under an idempotency key the scripted remote system remembers each run by its token
(:func:`~paradime.api.idempotency_token` of the key and the target, with ``--label`` as the run's
input): a trigger with a known token starts nothing and attaches to that run, running or ended;
a known token with another label is refused as a usage error. ``Calls.starts`` counts the runs
really started.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from paradime.api import (
    Column,
    ListCommand,
    Lister,
    Option,
    Page,
    Prepared,
    RunContext,
    RunError,
    Runner,
    RunState,
    RunStatus,
    TargetOption,
    TriggerCommand,
    TriggerDisplay,
    UsageError,
    hookimpl,
    idempotency_token,
)

# The scripted remote system's token length limit.
TOKEN_LENGTH = 64


@dataclass
class RemoteRun:
    """A run the scripted remote system made under an idempotency token."""

    target: str
    label: str | None
    run_id: str
    final: RunState | None = None


class Calls:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.triggers: Counter[str] = Counter()
        self.polls: Counter[str] = Counter()
        self.cancels: list[tuple[str, str]] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.params: dict[str, Any] = {}
        self.sources: dict[str, str] = {}
        self.extra_requests_granted = 0
        self.finished: list[tuple[str, int]] = []
        self.starts: Counter[str] = Counter()  # runs really started, per target
        self.remote: dict[str, RemoteRun] = {}  # by idempotency token
        self.prepares: Counter[str] = Counter()
        self.recovers: Counter[str] = Counter()
        self.made: dict[str, RunState] = {}  # runs a lost start made, as a look-up finds them
        self.page_failures = 0  # list pages still to answer with a retryable failure
        self.pages_read: list[Any] = []


def _number(target: str, default: float = 0) -> float:
    return float(target.split("-")[1]) if "-" in target else default


def _interrupt() -> None:
    """SIGINT to this process, only where a handler other than Python's default is installed
    (the engine's): never a KeyboardInterrupt in a test run."""
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        raise RuntimeError("no SIGINT handler of the engine is installed")
    os.kill(os.getpid(), signal.SIGINT)


class ScriptedRunner(Runner):
    def __init__(self, calls: Calls, context: RunContext | None = None) -> None:
        self.calls = calls
        self.context = context
        self.key = context.idempotency_key if context is not None else None
        self.label: str | None = calls.params.get("label")

    def trigger(self, target: str) -> RunState:
        with self.calls.lock:
            self.calls.triggers[target] += 1
            attempt = self.calls.triggers[target]
            self.calls.in_flight += 1
            self.calls.max_in_flight = max(self.calls.max_in_flight, self.calls.in_flight)
        try:
            if self.key is not None:
                found = self._attach(target)
                if found is not None:
                    return found
            if target == "sigint":
                _interrupt()
                time.sleep(1.0)  # the handler runs meanwhile
            if target.startswith("slow"):
                time.sleep(_number(target, 0.2))
            if target.startswith("ambiguous") and attempt <= _number(target):
                raise RunError(
                    "StartJob: ServiceUnavailable: try again (the start may have begun)",
                    retryable=True,
                    run_id=f"run-{target}",
                    handle={"target": target},
                    details={"execution_name": f"name-{target}"},
                )
            if target == "crash":
                raise ValueError("unexpected provider bug")
            if target == "throttle-forever" or (
                target.startswith("throttle") and attempt <= _number(target)
            ):
                raise RunError(
                    "Rate exceeded (ThrottlingException)",
                    status=RunStatus.THROTTLED,
                    retryable=True,
                )
            if target == "sync" or target.endswith("-sync"):
                return RunState(RunStatus.SUCCEEDED, run_id="sync-1", output={"answer": 42})
            if target == "rejected":
                raise RunError("AccessDeniedException: not allowed", status=RunStatus.ERROR)
            with self.calls.lock:
                self.calls.starts[target] += 1
                run_id = f"run-{target}"
                if self.key is not None:  # each key's run has its own id
                    run_id += f"-{self.calls.starts[target]}"
                    self.calls.remote[self._token(target)] = RemoteRun(target, self.label, run_id)
            return RunState(
                RunStatus.RUNNING,
                run_id=run_id,
                console_url=f"https://console.example/{target}",
                handle={"target": target},
                message="joined the run already in progress" if target == "joined" else None,
            )
        finally:
            with self.calls.lock:
                self.calls.in_flight -= 1

    def _token(self, target: str) -> str:
        assert self.key is not None
        return idempotency_token(self.key, target, max_length=TOKEN_LENGTH)

    def _attach(self, target: str) -> RunState | None:
        """The run this key already made for ``target``, reported instead of a new one."""
        with self.calls.lock:
            known = self.calls.remote.get(self._token(target))
        if known is None:
            return None
        if known.label != self.label:
            raise UsageError(
                f"idempotency key '{self.key}' already started run {known.run_id} of '{target}' "
                f"with label {known.label!r}, not {self.label!r}: use a new key for a new run"
            )
        if known.final is not None:
            message = f"run {known.run_id} had ended before this attempt: reported, not restarted"
            return replace(known.final, message=message, attached=True)
        return RunState(
            RunStatus.RUNNING,
            run_id=known.run_id,
            handle={"target": target},
            message=f"attached to run {known.run_id}, started earlier under the idempotency key",
            attached=True,
        )

    def poll(self, target: str, state: RunState) -> RunState:
        outcome = self._poll(target, state)
        if self.key is not None and outcome.status.is_terminal:
            with self.calls.lock:
                known = self.calls.remote.get(self._token(target))
                if known is not None:
                    known.final = replace(outcome, run_id=known.run_id)
        return outcome

    def _poll(self, target: str, state: RunState) -> RunState:
        with self.calls.lock:
            self.calls.polls[target] += 1
            polls = self.calls.polls[target]
        assert state.handle == {"target": target}
        if target.startswith("pages") and self.context is not None:
            granted = 0
            for _ in range(int(_number(target))):
                if not self.context.take_poll_request():
                    break
                granted += 1
            with self.calls.lock:
                self.calls.extra_requests_granted += granted
        if target == "pollerr-forever" or (
            target.startswith("pollerr") and polls <= _number(target)
        ):
            raise ConnectionResetError("connection reset by peer")
        if target.startswith("pollthrottle") and polls <= _number(target):
            raise RunError(
                "Rate exceeded (ThrottlingException)", status=RunStatus.THROTTLED, retryable=True
            )
        if target == "poll-sigint" and polls == 1:
            _interrupt()
            time.sleep(0.5)
        if target in ("hang", "sigint", "ends-on-stop"):
            return RunState(RunStatus.RUNNING, message="step 1 of 2")
        if target == "fail":
            return RunState(RunStatus.FAILED, error="States.TaskFailed: boom")
        if target.startswith("ok") and polls < _number(target, 1):
            return RunState(RunStatus.RUNNING)
        return RunState(RunStatus.SUCCEEDED, output={"target": target})

    def cancel(self, target: str, state: RunState, reason: str) -> RunState:
        with self.calls.lock:
            self.calls.cancels.append((target, reason))
        assert state.handle == {"target": target}
        if target == "ends-on-stop":
            return RunState(RunStatus.SUCCEEDED, output={"target": target})
        return RunState(RunStatus.STOPPED)


class ScriptedStepsRunner(ScriptedRunner):
    """The stepped trigger: look-ups, one start, and the recovery look-up."""

    def prepare(self, target: str) -> Prepared:
        with self.calls.lock:
            self.calls.prepares[target] += 1
        if target == "lookup-sigint":
            _interrupt()
            time.sleep(1.0)
        elif target.startswith("lookup"):
            time.sleep(_number(target, 0.2))
        name = f"name-{target}"
        return Prepared(
            run_id=f"run-{target}",
            handle={"target": target},
            details={"execution_name": name},
            data=name,
        )

    def start(self, target: str, prepared: Prepared) -> RunState:
        assert prepared.data == f"name-{target}"
        if not target.startswith("lost"):
            return self.trigger(target)
        with self.calls.lock:
            self.calls.triggers[target] += 1
            attempt = self.calls.triggers[target]
            made = not target.startswith("lost-norun")
            if made and target not in self.calls.made:
                self.calls.starts[target] += 1
                failed = target == "lost-fail"
                self.calls.made[target] = RunState(
                    RunStatus.FAILED if failed else RunStatus.RUNNING,
                    run_id=f"run-{target}",
                    handle={"target": target},
                    error="States.TaskFailed: boom" if failed else None,
                )
        losses = target.rsplit("-", 1)[-1]
        if not losses.isdigit() or attempt <= int(losses):
            raise RunError(
                "StartJob: the answer was lost (connection reset)",
                outcome_unknown=True,
                retryable=False,
            )
        with self.calls.lock:
            if target not in self.calls.made:
                self.calls.starts[target] += 1
                self.calls.made[target] = RunState(
                    RunStatus.RUNNING, run_id=f"run-{target}", handle={"target": target}
                )
            return self.calls.made[target]

    def recover(self, target: str, prepared: Prepared) -> RunState | None:
        with self.calls.lock:
            self.calls.recovers[target] += 1
            found = self.calls.made.get(target)
        if target == "lost-blind":
            raise RunError("DescribeJob: AccessDenied", status=RunStatus.ERROR)
        return None if found is None else replace(found)

    def _poll(self, target: str, state: RunState) -> RunState:
        if target.startswith("gone"):
            with self.calls.lock:
                self.calls.polls[target] += 1
                polls = self.calls.polls[target]
            if polls <= _number(target):
                raise RunError("DescribeJob: JobDoesNotExist", not_found=True)
            return RunState(RunStatus.SUCCEEDED)
        if target.startswith("lost") and target != "lost-fail":
            return RunState(RunStatus.SUCCEEDED)
        return super()._poll(target, state)


class ScriptedLister(Lister):
    """Three jobs a page, three pages; ``Calls.page_failures`` pages fail retryably first."""

    def __init__(self, calls: Calls | None = None) -> None:
        self.calls = calls or Calls()

    def page(self, token: Any) -> Page:
        number = token or 0
        with self.calls.lock:
            self.calls.pages_read.append(number)
            if self.calls.page_failures > 0:
                self.calls.page_failures -= 1
                raise RunError(
                    "ListJobs: 429 Too Many Requests",
                    status=RunStatus.THROTTLED,
                    retryable=True,
                    retry_after_s=0.1,
                )
        rows = [{"name": f"job-{number * 3 + i}", "kind": "scripted"} for i in range(3)]
        return Page(rows, next=number + 1 if number < 2 else None)


def _positive(value: str) -> str:
    if value == "bad":
        raise UsageError("'bad' is not allowed")
    return value


class ScriptedProvider:
    """A provider registered with pluggy, as an entry point would register it."""

    __name__ = "scripted"

    def __init__(self) -> None:
        self.calls = Calls()

    def _steps_factory(self, params: Mapping[str, Any], context: RunContext) -> Runner:
        self.calls.params = dict(params)
        return ScriptedStepsRunner(self.calls, context)

    def _factory(self, params: Mapping[str, Any], context: RunContext) -> Runner:
        self.calls.params = dict(params)
        self.calls.sources = {key: str(source) for key, source in context.option_sources.items()}
        if params.get("secret_token"):
            context.add_secret(params["secret_token"])
        # Tickets are made up remotely: only their shape is known in advance.
        context.add_secret_pattern(r"ticket (?P<secret>T-[0-9a-f]{8,})")
        context.logger.debug("building runner", token=params.get("secret_token"))
        context.logger.debug(f"issued ticket T-{sum(map(ord, context.command)):08x}")
        return ScriptedRunner(self.calls, context)

    @hookimpl
    def paradime_register_commands(self, register: Any) -> None:
        register(
            TriggerCommand(
                name="scripted-run",
                help="Run scripted jobs.",
                provider="scripted",
                service="scripted",
                target=TargetOption(
                    "--job", "A scripted job.", aliases=("--jobs",), validate=_positive
                ),
                options=(
                    Option("--label", "A label.", aliases=("--old-label",)),
                    Option("--secret-token", "A secret.", secret=True, envvar="SCRIPTED_TOKEN"),
                ),
                factory=self._factory,
                # Its own words for a run that ended in its trigger call, as Lambda's.
                display=TriggerDisplay(succeeded_at_trigger="Answered successfully"),
                default_timeout_minutes=5,
                aliases=("scripted-trigger",),
                idempotent=True,
                idempotency_help="The scripted system keeps each run under its token.",
            )
        )
        register(
            TriggerCommand(
                name="scripted-steps",
                help="Run scripted jobs through the stepped trigger.",
                provider="scripted",
                service="scripted",
                target=TargetOption("--job", "A scripted job."),
                options=(Option("--label", "A label."),),
                factory=self._steps_factory,
                default_timeout_minutes=5,
            )
        )
        register(
            ListCommand(
                name="scripted-list",
                help="List scripted jobs.",
                provider="scripted",
                columns=(Column("name", "NAME"), Column("kind", "KIND")),
                factory=lambda params, context: ScriptedLister(self.calls),
            )
        )

    @hookimpl
    def paradime_run_finished(self, command: str, results: Any, exit_code: int) -> None:
        self.calls.finished.append((command, exit_code))


provider = ScriptedProvider()
