"""Fixtures of the tests that cross packages: every AWS emulator patch, loopback only, counts.

* The emulators' patches are the providers' own (``paradime_aws_<x>.testing``), imported here:
  one copy, shared with each provider's tests. The moto server runs in this process, so the
  patches also answer the ``paradime`` console script run as a subprocess.
* ``loopback_only`` (every test here): any connection, or name lookup, to an address other than
  127.0.0.1 / ::1 fails and fails the test: no test may reach real AWS, IMDS or a DNS server.
* ``ledger``: a test records what it injected and saw (faults, targets, duplicate runs, leaked
  secrets); the counts are summed per scenario at the end of the session and printed (also with
  ``pytest -n``), and written to ``reliability-counts.md`` in pytest's temporary directory.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from paradime.testing.proxy import FaultProxy
from paradime_aws_common.testing import AwsEnv
from paradime_aws_lambda.testing import Functions, LambdaEmulator, functions, lambda_emulator
from paradime_aws_sagemaker.testing import SageMakerEmulator, pipelines, sagemaker
from paradime_aws_stepfunctions.testing import Machines, machines, sfn_emulator

__all__ = [  # fixtures, registered by being imported here
    "functions",
    "lambda_emulator",
    "machines",
    "pipelines",
    "sagemaker",
    "sfn_emulator",
]

# -- loopback only -------------------------------------------------------------------------
_LOOPBACK = {"127.0.0.1", "::1", "localhost", "::ffff:127.0.0.1"}


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Refuse (and report) connections and name lookups beyond the loopback interface."""
    attempts: list[str] = []
    connect = socket.socket.connect
    connect_ex = socket.socket.connect_ex
    getaddrinfo = socket.getaddrinfo

    def allowed(sock: socket.socket, address: Any) -> bool:
        if sock.family not in (socket.AF_INET, socket.AF_INET6):
            return True  # Unix sockets, socketpairs
        return str(address[0]) in _LOOPBACK

    def guarded_connect(sock: socket.socket, address: Any) -> None:
        if not allowed(sock, address):
            attempts.append(f"connect {address!r}")
            raise OSError(errno.ENETUNREACH, f"test refused a non-loopback address {address!r}")
        connect(sock, address)

    def guarded_connect_ex(sock: socket.socket, address: Any) -> int:
        if not allowed(sock, address):
            attempts.append(f"connect {address!r}")
            return errno.ENETUNREACH
        return connect_ex(sock, address)

    def guarded_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else host
        if name is not None and str(name) not in _LOOPBACK:
            attempts.append(f"resolve {name!r}")
            raise socket.gaierror(socket.EAI_NONAME, f"test refused to resolve {name!r}")
        return getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    monkeypatch.setattr(socket.socket, "connect_ex", guarded_connect_ex)
    monkeypatch.setattr(socket, "getaddrinfo", guarded_getaddrinfo)
    yield attempts
    assert attempts == [], f"the test tried to leave the loopback interface: {attempts}"


# -- counts per scenario -------------------------------------------------------------------
COUNT_KEYS = ("faults", "targets", "duplicates", "secrets_leaked")
SCENARIOS = {
    "1": "Throttle storm",
    "2": "Server errors and dropped connections",
    "3": "Slow API",
    "4": "Deadline",
    "5": "Interrupt",
    "6": "Bad input",
    "7": "Credentials",
    "8": "Secrets",
    "9": "Broken plugin",
    "10": "Parallel processes",
    "11": "Retried under an idempotency key",
    "12": "Stops and lost answers around the trigger's steps",
}
_PROPERTY = "reliability"


@dataclass
class Ledger:
    """What one test injected and observed, attached to its report."""

    node: Any
    counts: dict[str, int] = field(default_factory=dict)
    scenario: str | None = None

    def record(self, scenario: str, proxy: FaultProxy | None = None, **counts: int) -> None:
        """Add counts (``faults``, ``targets``, ``duplicates``, ``secrets_leaked``); with
        ``proxy``, the requests it answered itself (throttles, errors, resets, lost answers)
        count as faults."""
        if proxy is not None:
            injected = sum(1 for request in list(proxy.requests) if request.fault)
            counts["faults"] = counts.get("faults", 0) + injected
        assert scenario in SCENARIOS, scenario
        unknown = set(counts) - set(COUNT_KEYS)
        assert not unknown, unknown
        self.scenario = scenario
        for key, value in counts.items():
            self.counts[key] = self.counts.get(key, 0) + int(value)
        self.node.user_properties[:] = [
            p for p in self.node.user_properties if p[0] != _PROPERTY
        ] + [(_PROPERTY, json.dumps({"scenario": scenario, **self.counts}))]


@pytest.fixture
def ledger(request: pytest.FixtureRequest) -> Ledger:
    return Ledger(request.node)


def _scenario_table(reports: Sequence[Any]) -> list[str]:
    totals: dict[str, dict[str, int]] = {}
    for report in reports:
        if report.when != "call" or not report.passed:
            continue
        for name, value in report.user_properties:
            if name != _PROPERTY:
                continue
            entry = json.loads(value)
            scenario = entry.pop("scenario")
            row = totals.setdefault(scenario, {"tests": 0, **dict.fromkeys(COUNT_KEYS, 0)})
            row["tests"] += 1
            for key, count in entry.items():
                row[key] += count
    if not totals:
        return []
    lines = [
        "| # | scenario | tests | faults injected | targets | duplicate runs | secrets leaked |",
        "|---|---|---|---|---|---|---|",
    ]
    for number in sorted(totals, key=int):
        row = totals[number]
        lines.append(
            f"| {number} | {SCENARIOS[number]} | {row['tests']} | {row['faults']} | "
            f"{row['targets']} | {row['duplicates']} | {row['secrets_leaked']} |"
        )
    return lines


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: Any) -> None:
    """The reliability scenarios' counts, summed over the passed tests that recorded them."""
    reports = [r for key in ("passed",) for r in terminalreporter.stats.get(key, [])]
    lines = _scenario_table(reports)
    if not lines:
        return
    terminalreporter.write_sep("=", "reliability scenarios (passed tests)")
    for line in lines:
        terminalreporter.write_line(line)
    factory = getattr(config, "_tmp_path_factory", None)
    if factory is not None:
        path = Path(factory.getbasetemp()) / "reliability-counts.md"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        terminalreporter.write_line(f"written to {path}")


# -- the emulators, all patched ------------------------------------------------------------
@dataclass
class Emulators:
    """Every emulated service of one test, and what each saw."""

    aws: AwsEnv
    lambda_: LambdaEmulator
    functions: Functions
    machines: Machines
    sagemaker: SageMakerEmulator

    def duplicate_invocations(self) -> int:
        """Lambda invocations beyond the first, per function."""
        counts: dict[str, int] = {}
        for invocation in self.lambda_.invoked():
            counts[invocation.function] = counts.get(invocation.function, 0) + 1
        return sum(n - 1 for n in counts.values())

    def duplicate_executions(self, arns: Sequence[str]) -> int:
        """Step Functions executions beyond the first, per state machine."""
        return sum(max(0, len(self.machines.executions(arn)) - 1) for arn in arns)

    def duplicate_pipeline_executions(self, names: Sequence[str]) -> int:
        """SageMaker executions beyond the first, per pipeline."""
        return sum(max(0, len(self.sagemaker.executions(name)) - 1) for name in names)


@pytest.fixture
def emulators(
    aws: AwsEnv,
    lambda_emulator: LambdaEmulator,
    functions: Functions,
    sfn_emulator: None,
    machines: Machines,
    sagemaker: SageMakerEmulator,
) -> Emulators:
    """The emulator with the Lambda, Step Functions and SageMaker patches in place."""
    return Emulators(aws, lambda_emulator, functions, machines, sagemaker)


# -- the real console script ---------------------------------------------------------------
def paradime_script() -> str:
    found = shutil.which("paradime", path=str(Path(sys.executable).parent))
    assert found, "the paradime console script is not installed next to this Python"
    return found


@pytest.fixture
def script_env(aws: AwsEnv) -> Callable[..., dict[str, str]]:
    """``script_env(**extra)``: the environment of a ``paradime`` subprocess, made when called
    (after ``aws_faults`` points the endpoint at the proxy): the test's AWS settings, this
    process's PATH and the like, no other ``AWS_``, ``PARADIME_`` or ``PYTHON`` variable."""

    def make(**extra: str) -> dict[str, str]:
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("AWS_", "PARADIME_", "PYTHON")) and key != "BOTO_CONFIG"
        }
        env.update(aws.env)
        env.update(extra)
        return env

    return make


@dataclass
class Process:
    """A running ``paradime`` process whose stderr is read line by line as it comes."""

    popen: subprocess.Popen[str]
    lines: list[str] = field(default_factory=list)
    stdout: str = ""
    _reader: threading.Thread | None = None
    _out_reader: threading.Thread | None = None

    def start_readers(self) -> None:
        def read_err() -> None:
            assert self.popen.stderr is not None
            for line in self.popen.stderr:
                self.lines.append(line)

        def read_out() -> None:
            assert self.popen.stdout is not None
            self.stdout = self.popen.stdout.read()

        self._reader = threading.Thread(target=read_err, daemon=True)
        self._out_reader = threading.Thread(target=read_out, daemon=True)
        self._reader.start()
        self._out_reader.start()

    @property
    def stderr(self) -> str:
        return "".join(self.lines)

    def wait_for(self, predicate: Callable[[str], bool], limit_s: float = 60.0) -> None:
        """Wait until ``predicate(stderr so far)`` holds; fail the test after ``limit_s``."""
        deadline = time.monotonic() + limit_s
        while not predicate(self.stderr):
            if self.popen.poll() is not None:
                time.sleep(0.2)  # let the readers drain the pipes
                if predicate(self.stderr):
                    return
                pytest.fail(f"paradime exited {self.popen.returncode} first:\n{self.stderr}")
            if time.monotonic() > deadline:
                pytest.fail(f"paradime never got there:\n{self.stderr}")
            time.sleep(0.05)

    def signal(self, signum: int = signal.SIGINT) -> None:
        self.popen.send_signal(signum)

    def finish(self, limit_s: float = 90.0) -> int:
        """Wait for the exit; the exit code. stdout and stderr are complete afterwards."""
        try:
            code = self.popen.wait(timeout=limit_s)
        finally:
            if self.popen.poll() is None:
                self.popen.kill()
        for reader in (self._reader, self._out_reader):
            if reader is not None:
                reader.join(timeout=10)
        return code

    @property
    def json(self) -> Any:
        return json.loads(self.stdout)


@pytest.fixture
def spawn() -> Iterator[Callable[..., Process]]:
    """Start ``paradime <args>`` with an environment; every process is gone after the test."""
    started: list[Process] = []

    def start(args: Sequence[str], env: Mapping[str, str]) -> Process:
        popen = subprocess.Popen(
            [paradime_script(), *args],
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
        )
        process = Process(popen)
        process.start_readers()
        started.append(process)
        return process

    yield start
    for process in started:
        if process.popen.poll() is None:
            process.popen.kill()
            process.popen.wait(timeout=10)


@pytest.fixture
def run_script() -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run ``paradime <args>`` to its end: ``run_script(args, env)`` gives the CompletedProcess."""
    return _run_script


def _run_script(
    args: Sequence[str], env: Mapping[str, str], timeout: float = 90.0
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [paradime_script(), *args],
        env=dict(env),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=timeout,
        check=False,
    )
