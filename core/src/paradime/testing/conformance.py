"""The conformance kit: one pytest suite that checks a provider keeps the product's promises.

A provider (built-in or third party) subclasses :class:`ConformanceSuite` in its tests and
points it at its command and its fake or emulator through a small :class:`Adapter`::

    from paradime.testing.conformance import Adapter, ConformanceSuite

    class TestConformance(ConformanceSuite):
        adapter = MyAdapter()   # an Adapter subclass

Every scenario runs the real CLI (:func:`paradime.testing.run_cli`, in this process: signals are
sent to it as a scheduler would send them to the console script, and the fake's and the fault
proxy's counts are read directly) against the service through a :class:`FaultProxy`, and
asserts what the user and the service saw:

* ``stop_during_lookups`` (SIGTERM, SIGINT) and ``deadline_during_lookups``: nothing starts;
* ``stop_during_start_retry_wait``: SIGTERM while a throttled start waits: nothing starts;
* ``lost_start_answer``: the start reached the service, its answer was lost and the run failed
  before any retry: exactly one run, reported ``FAILED`` (or, for a provider that declares
  :attr:`Adapter.unrecoverable_start`, ``ERROR`` "may have started" and exactly one run);
* ``retry_after_waited``: a status read answered 429 ``Retry-After`` is asked again no sooner;
* ``status_5xx_retried``: 5xx answers to status reads do not end the run;
* ``status_not_found_reread``: a status read saying "no such run" right after the start (a
  read that lags it) does not end the run (needs :attr:`Adapter.not_found`);
* ``list_page_retried`` (throttled, 5xx): the list is still whole;
* ``cancel_after_end``: ``--cancel-on-exit`` on a run that ended a moment before the stop
  reports its true end;
* ``secrets_absent``: no value registered as secret in stdout or stderr, at debug level, in
  both log formats;
* ``two_spellings``: one target in two spellings is never started twice (exit 2 before any
  call, or exactly one start).

A scenario may be declared not applicable only with a reason (:attr:`Adapter.not_applicable`),
which the kit prints as the skip reason (``pytest -rs``); the promises of the stop, the lost
answer and the secrets have no opt-out.
"""

from __future__ import annotations

import os
import signal
import threading
import time
import warnings
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, ClassVar

import pytest

from paradime.testing import CliResult, registered, run_cli
from paradime.testing.proxy import Delay, FaultProxy, Lost, ProxyRequest, Reply, when

# Scenarios a provider cannot declare not applicable: the product's core promises.
MANDATORY = frozenset({"stop_during_lookups", "lost_start_answer", "secrets_absent"})
JSON = {"Content-Type": "application/json"}


class Adapter:
    """What the kit needs to know of one provider and its fake or emulator.

    Class attributes name the command and the calls (as :meth:`ProxyRequest.matches` reads an
    action: an ``X-Amz-Target`` operation exactly, else any part of ``METHOD path``); methods
    start the service and arrange targets. One adapter object serves one test at a time.
    """

    #: the trigger command (``fivetran-sync``) and its target option (``--connector-id``)
    command: ClassVar[str]
    target_option: ClassVar[str]
    #: the list command, if any
    list_command: ClassVar[str | None] = None
    #: the read-only look-up made before the start (``None``: the trigger looks nothing up)
    lookup_action: ClassVar[str | None] = None
    #: the one run-creating call, the status read, the list page read
    start_action: ClassVar[str]
    status_action: ClassVar[str]
    list_action: ClassVar[str | None] = None
    #: the service's throttle and server error, as the proxy answers them
    throttle: ClassVar[Reply] = Reply(
        429, b'{"message": "Too many requests"}', {**JSON, "Retry-After": "1"}
    )
    server_error: ClassVar[Reply] = Reply(503, b'{"message": "Service unavailable"}', JSON)
    #: the service's answer to a status read of a run it does not know (``None``: not said)
    not_found: ClassVar[Reply | None] = None
    #: scenario name -> why it does not apply (printed by the kit); see :data:`MANDATORY`
    not_applicable: ClassVar[Mapping[str, str]] = {}
    #: why a start whose answer was lost cannot be looked for (Lambda's synchronous invoke):
    #: the kit then expects ``ERROR`` "may have started" and exactly one run
    unrecoverable_start: ClassVar[str | None] = None

    #: the running fake, for a provider that uses :meth:`new_fake`
    fake: Any = None

    def new_fake(self) -> Any:
        """A fake with ``start()`` (returning itself), ``stop()`` and ``url``: the default
        :meth:`start` and :meth:`stop` run it, and keep it in :attr:`fake`."""
        raise NotImplementedError

    def start(self) -> str:
        """Start the fake or emulator; return its loopback URL (the proxy forwards to it)."""
        self.fake = self.new_fake().start()
        return str(self.fake.url)

    def stop(self) -> None:
        """Stop what :meth:`start` started."""
        if self.fake is not None:
            self.fake.stop()
            self.fake = None

    def env(self, url: str) -> dict[str, str]:
        """Environment that points the CLI at ``url`` (the fault proxy) with its credentials."""
        raise NotImplementedError

    def args(self) -> list[str]:
        """Extra arguments of every trigger command line (a region, say)."""
        return []

    def plugins(self) -> Sequence[Any]:
        """Provider objects to register; empty: the installed entry points."""
        return ()

    def make_target(self, seconds: float, *, fail: bool = False) -> str:
        """Create a target whose run takes about ``seconds`` and succeeds (fails with
        ``fail``); return it as the command's target option takes it."""
        raise NotImplementedError

    def make_listed(self, count: int) -> list[str]:
        """Create ``count`` targets; return what the list command prints for each (an id)."""
        raise NotImplementedError

    def runs(self, target: str) -> int:
        """How many runs the service made for ``target``."""
        raise NotImplementedError

    def secrets(self) -> list[str]:
        """Every value the command registers as secret (keys, passwords, tokens)."""
        return []

    def spellings(self, target: str) -> tuple[str, str] | None:
        """Two spellings of ``target`` (an id and an ARN, other case...); ``None``: one only."""
        return None


def _send_later(signum: int, delay: float) -> threading.Timer:
    timer = threading.Timer(delay, os.kill, (os.getpid(), signum))
    timer.daemon = True
    timer.start()
    return timer


def _row(result: CliResult, target: str) -> dict[str, Any]:
    rows: list[dict[str, Any]] = result.json["results"]
    return next(r for r in rows if r["target"] == target)


class ConformanceSuite:
    """The scenarios; subclass as ``TestSomething`` with ``adapter = YourAdapter()``."""

    adapter: ClassVar[Adapter]

    # -- plumbing -----------------------------------------------------------------------
    @pytest.fixture
    def service(self) -> Iterator[str]:
        """The service's loopback URL: by default what :meth:`Adapter.start` starts. A test
        class whose emulator comes from fixtures of its own overrides this fixture."""
        try:
            yield self.adapter.start()
        finally:
            self.adapter.stop()

    @pytest.fixture
    def kit(self, fast_polling: Any, service: str) -> Iterator[FaultProxy]:
        """The service behind a fault proxy, the provider registered, fast polling."""
        proxy = FaultProxy(service).start()
        plugins = self.adapter.plugins()
        try:
            with registered(*plugins, entry_points=not plugins):
                yield proxy
        finally:
            proxy.stop()

    def applies(self, scenario: str) -> None:
        reason = self.adapter.not_applicable.get(scenario)
        if reason is None:
            return
        if scenario in MANDATORY:
            pytest.fail(f"{scenario} is a promise every provider keeps; it cannot be opted out")
        pytest.skip(f"{type(self.adapter).__name__}: {scenario} not applicable: {reason}")

    def cli(self, proxy: FaultProxy, *args: str) -> CliResult:
        env = {"NO_COLOR": "1", **self.adapter.env(proxy.url)}
        return run_cli(["run", *args], env=env)

    def trigger(self, proxy: FaultProxy, targets: Sequence[str], *args: str) -> CliResult:
        a = self.adapter
        line = [a.command, a.target_option, ",".join(targets), *a.args(), *args, "--json"]
        return self.cli(proxy, *line)

    def started(self, targets: Sequence[str]) -> int:
        """Runs the service made for ``targets``."""
        return sum(self.adapter.runs(t) for t in targets)

    # -- a stop or the deadline during the look-ups ------------------------------------
    @pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
    def test_stop_during_lookups_starts_nothing(self, kit: FaultProxy, signum: int) -> None:
        self.applies("stop_during_lookups")
        lookup = self.adapter.lookup_action
        if lookup is None:
            pytest.skip(f"{type(self.adapter).__name__}: its trigger makes no look-up")
        targets = [self.adapter.make_target(0.3) for _ in range(3)]
        sent = threading.Event()

        def slow(request: ProxyRequest) -> Delay:
            if not sent.is_set():
                sent.set()
                _send_later(signum, 0.1)
            return Delay(1.0)

        kit.add_rule(when(slow, action=lookup))
        result = self.trigger(kit, targets, "--max-concurrency", "3")
        assert result.exit_code == 128 + signum, result.stderr
        assert self.started(targets) == 0
        assert kit.count(self.adapter.start_action, forwarded_only=True) == 0
        assert {r["status"] for r in result.json["results"]} == {"STOPPED"}

    def test_deadline_during_lookups_starts_nothing(self, kit: FaultProxy) -> None:
        self.applies("deadline_during_lookups")
        lookup = self.adapter.lookup_action
        if lookup is None:
            pytest.skip(f"{type(self.adapter).__name__}: its trigger makes no look-up")
        targets = [self.adapter.make_target(0.3) for _ in range(2)]
        kit.add_rule(when(Delay(2.0), action=lookup))
        result = self.trigger(kit, targets, "--timeout-minutes", "0.01")
        assert result.exit_code == 1, result.stderr
        assert self.started(targets) == 0
        assert kit.count(self.adapter.start_action, forwarded_only=True) == 0

    # -- the start ----------------------------------------------------------------------
    def test_stop_during_start_retry_wait_starts_nothing(self, kit: FaultProxy) -> None:
        self.applies("stop_during_start_retry_wait")
        target = self.adapter.make_target(0.3)
        throttle = self.adapter.throttle
        waiting = Reply(throttle.status, throttle.body, {**throttle.headers, "Retry-After": "5"})
        signalled = time.monotonic() + 3600.0

        def throttled(request: ProxyRequest) -> Reply:
            nonlocal signalled
            if signalled > time.monotonic() + 60:
                signalled = time.monotonic() + 0.5
                _send_later(signal.SIGTERM, 0.5)
            return waiting

        kit.add_rule(when(throttled, action=self.adapter.start_action))
        result = self.trigger(kit, [target])
        assert result.exit_code == 143, result.stderr
        assert self.adapter.runs(target) == 0
        # No attempt after the signal (a Retry-After the provider honours means one attempt
        # in all; core's own backoff, a few before the signal).
        starts = [r for r in kit.requests if r.matches(self.adapter.start_action)]
        assert starts and all(r.at < signalled + 0.05 for r in starts), kit.actions()
        assert kit.count(self.adapter.start_action, forwarded_only=True) == 0

    def test_lost_start_answer_gives_one_run_and_its_true_outcome(self, kit: FaultProxy) -> None:
        self.applies("lost_start_answer")
        target = self.adapter.make_target(0.0, fail=True)
        kit.add_rule(when(Lost(), action=self.adapter.start_action, times=1))
        result = self.trigger(kit, [target])
        assert self.adapter.runs(target) == 1, result.stderr
        row = _row(result, target)
        if self.adapter.unrecoverable_start:
            reason = self.adapter.unrecoverable_start
            warnings.warn(
                f"{type(self.adapter).__name__}: unrecoverable start: {reason}", stacklevel=1
            )
            assert (result.exit_code, row["status"]) == (1, "ERROR"), result.stderr
            assert "may have started" in row["error"]
            return
        assert (result.exit_code, row["status"]) == (1, "FAILED"), result.stderr

    # -- status reads -------------------------------------------------------------------
    def test_retry_after_on_a_status_read_is_waited_out(self, kit: FaultProxy) -> None:
        self.applies("retry_after_waited")
        target = self.adapter.make_target(0.5)
        kit.add_rule(when(self.adapter.throttle, action=self.adapter.status_action, times=1))
        result = self.trigger(kit, [target])
        assert result.exit_code == 0, result.stderr
        assert self.adapter.runs(target) == 1
        reads = [r for r in kit.requests if r.matches(self.adapter.status_action)]
        [refused] = [i for i, r in enumerate(reads) if r.fault]
        wait = float(self.adapter.throttle.headers.get("Retry-After", "0"))
        assert reads[refused + 1].at - reads[refused].at >= wait - 0.05

    def test_server_errors_on_status_reads_are_retried(self, kit: FaultProxy) -> None:
        self.applies("status_5xx_retried")
        target = self.adapter.make_target(0.5)
        kit.add_rule(when(self.adapter.server_error, action=self.adapter.status_action, times=2))
        result = self.trigger(kit, [target])
        assert result.exit_code == 0, result.stderr
        assert _row(result, target)["status"] == "SUCCEEDED"
        assert self.adapter.runs(target) == 1

    def test_a_run_not_found_right_after_its_start_is_read_again(self, kit: FaultProxy) -> None:
        self.applies("status_not_found_reread")
        missing = self.adapter.not_found
        if missing is None:
            pytest.skip(f"{type(self.adapter).__name__}: no 'no such run' answer declared")
        target = self.adapter.make_target(0.5)
        kit.add_rule(when(missing, action=self.adapter.status_action, times=1))
        result = self.trigger(kit, [target])
        assert result.exit_code == 0, result.stderr
        assert _row(result, target)["status"] == "SUCCEEDED"
        assert self.adapter.runs(target) == 1

    # -- lists --------------------------------------------------------------------------
    @pytest.mark.parametrize("fault", ["throttle", "server_error"])
    def test_a_list_page_failing_once_still_gives_the_whole_list(
        self, kit: FaultProxy, fault: str
    ) -> None:
        self.applies("list_page_retried")
        a = self.adapter
        if a.list_command is None or a.list_action is None:
            pytest.skip(f"{type(a).__name__}: no list command")
        names = a.make_listed(3)
        kit.add_rule(when(getattr(a, fault), action=a.list_action, times=1))
        result = self.cli(kit, a.list_command, "--json")
        assert result.exit_code == 0, result.stderr
        for name in names:
            assert name in result.stdout
        assert kit.count(a.list_action) >= 2

    # -- cancel -------------------------------------------------------------------------
    def test_cancel_on_exit_after_the_run_ended_reports_its_true_end(self, kit: FaultProxy) -> None:
        """The run ends; before a status read has seen it, SIGTERM comes with
        ``--cancel-on-exit``: the row says how the run ended, not that it was stopped."""
        self.applies("cancel_after_end")
        target = self.adapter.make_target(0.5)
        held = threading.Event()
        signalled = time.monotonic() + 3600.0

        def hold(request: ProxyRequest) -> Delay | None:
            nonlocal signalled
            if time.monotonic() >= signalled:
                return None  # after the signal: what the stop request's answer leads to reads
            if held.is_set():
                return Delay(5.0, forward=False)  # no status read sees the end
            held.set()
            signalled = time.monotonic() + 1.5
            _send_later(signal.SIGTERM, 1.5)  # the run has ended by then
            return Delay(5.0, forward=False)

        kit.add_rule(when(hold, action=self.adapter.status_action))
        result = self.trigger(kit, [target], "--cancel-on-exit")
        assert _row(result, target)["status"] == "SUCCEEDED", result.stderr
        assert self.adapter.runs(target) == 1

    # -- secrets ------------------------------------------------------------------------
    @pytest.mark.parametrize("log_format", ["console", "json"])
    def test_secrets_are_absent_at_debug_level(self, kit: FaultProxy, log_format: str) -> None:
        self.applies("secrets_absent")
        target = self.adapter.make_target(0.2)
        result = self.trigger(kit, [target], "--log-level", "debug", "--log-format", log_format)
        assert result.exit_code == 0, result.stderr
        for secret in self.adapter.secrets():
            assert secret not in result.stdout
            assert secret not in result.stderr

    # -- one target, two spellings ------------------------------------------------------
    def test_one_target_in_two_spellings_is_started_once_at_most(self, kit: FaultProxy) -> None:
        self.applies("two_spellings")
        target = self.adapter.make_target(0.3)
        spellings = self.adapter.spellings(target)
        if spellings is None:
            pytest.skip(f"{type(self.adapter).__name__}: a target has one spelling only")
        result = self.trigger(kit, list(spellings))
        if result.exit_code == 2:
            assert len(kit.requests) == 0, kit.actions()
            return
        assert self.adapter.runs(target) == 1, result.stderr
        assert kit.count(self.adapter.start_action) == 1
