"""Benchmarks, side by side in one run on this machine: ``python3 dev.py bench``.

    python bench/run.py                     # everything
    python bench/run.py startup polling     # some of: startup concurrency fanout polling scale
                                            #          overhead
    python bench/run.py --quick             # fewer repeats (a smoke run)

The comparisons (``paradime-io==6.9.0``, the AWS CLI) are installed into their own virtual
environments under ``bench/.venvs`` on first use. AWS runs go to a moto server on 127.0.0.1,
through the fault proxy where latency is part of the measurement. Figures are medians; ratios
come from runs interleaved in the same process, so machine noise hits both sides alike.
Results are printed as a table and written to ``bench/results/latest.json``.
"""

from __future__ import annotations

import json
import math
import os
import random
import resource
import statistics
import subprocess
import sys
import time
import venv
from collections.abc import Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
VENVS = HERE / ".venvs"
RESULTS = HERE / "results"
BIN = Path(sys.executable).parent
# PARADIME_BENCH_BIN measures another installation (an earlier version) with the same scripts.
PARADIME = os.environ.get("PARADIME_BENCH_BIN") or str(BIN / "paradime")
QUICK = "--quick" in sys.argv
Row = dict[str, Any]


# -- helpers -------------------------------------------------------------------------------
def side_venv(name: str, requirement: str, script: str) -> str | None:
    """A venv with one requirement; returns the path of its console script, or None."""
    path = VENVS / name
    exe = path / "bin" / script
    if exe.exists():
        return str(exe)
    print(f"  installing {requirement} into {path.relative_to(ROOT)} ...", flush=True)
    venv.EnvBuilder(with_pip=True, clear=True).create(path)
    done = subprocess.run(
        [str(path / "bin" / "python"), "-m", "pip", "install", "-q", requirement],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0 or not exe.exists():
        print(f"  could not install {requirement}: {done.stderr.strip()[-300:]}")
        return None
    return str(exe)


def timed(cmd: Sequence[str], env: dict[str, str] | None = None) -> tuple[float, float, int]:
    """Wall seconds, child CPU seconds, and exit code of one command."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, done.returncode


def interleaved(
    commands: dict[str, Sequence[str]], repeats: int, env: dict[str, str]
) -> dict[str, list[float]]:
    """Run each command ``repeats`` times, in a shuffled order each round; wall times."""
    times: dict[str, list[float]] = {name: [] for name in commands}
    rng = random.Random(1)
    for _ in range(repeats):
        order = list(commands)
        rng.shuffle(order)
        for name in order:
            wall, _, code = timed(commands[name], env)
            if code != 0:
                raise SystemExit(f"{name} failed with exit code {code}: {' '.join(commands[name])}")
            times[name].append(wall)
    return times


class Emulator:
    """moto server plus a fault proxy in front of it, in this process."""

    def __init__(self) -> None:
        from paradime.testing.proxy import FaultProxy
        from paradime_aws_common.testing import AwsEnv, aws_environment, start_moto_server

        self.moto = start_moto_server()
        self.server = self.moto.server
        self.proxy = FaultProxy(self.moto.url).start()
        self.aws = AwsEnv(self.moto.url, {})
        self.env = {**os.environ, **aws_environment(self.proxy.url)}

    def stop(self) -> None:
        self.proxy.stop()
        self.server.stop()


def create_functions(emulator: Emulator, count: int) -> list[str]:
    client = emulator.aws.client("lambda")
    iam = emulator.aws.client("iam")
    role = iam.create_role(RoleName="bench", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("index.py", "def handler(event, context):\n    return event\n")
    names = [f"bench-fn-{i:03d}" for i in range(count)]
    for name in names:
        client.create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=role,
            Handler="index.handler",
            Code={"ZipFile": buffer.getvalue()},
        )
    return names


# -- 1. start-up ----------------------------------------------------------------------------
def bench_startup() -> list[Row]:
    """Help screens, and one real invocation from process start to exit (target 2)."""
    repeats = 5 if QUICK else 21
    emulator = Emulator()
    try:
        (name,) = create_functions(emulator, 1)
        # Straight to the emulator (no proxy): the figure is the tool's own start and finish.
        env = {**emulator.env, "AWS_ENDPOINT_URL": emulator.moto.url, "NO_COLOR": "1"}
        commands: dict[str, Sequence[str]] = {
            "paradime --help": [PARADIME, "--help"],
            "paradime run --help": [PARADIME, "run", "--help"],
            "paradime run aws-lambda-invoke --help": [
                PARADIME,
                "run",
                "aws-lambda-invoke",
                "--help",
            ],
            ONE_INVOKE: [PARADIME, "run", "aws-lambda-invoke", "--function-name", name],
        }
        aws = side_venv("awscli", "awscli>=1.32,<2", "aws")
        if aws:
            commands["aws --version (AWS CLI)"] = [aws, "--version"]
        old = side_venv("paradime-io-6.9.0", "paradime-io==6.9.0", "paradime")
        if old:
            commands[OLD_HELP] = [old, "run", "aws-lambda-trigger", "--help"]
            commands[OLD_INVOKE] = [old, "run", "aws-lambda-trigger", "--function-names", name]
        times = interleaved(commands, repeats, env)
    finally:
        emulator.stop()
    median = {label: statistics.median(t) for label, t in times.items()}
    rows = [
        {
            "benchmark": "startup",
            "what": label,
            "median_ms": round(median[label] * 1000, 1),
            "runs": len(t),
        }
        for label, t in times.items()
    ]
    ours = median["paradime run --help"]
    rows.append(
        target_row(
            "startup",
            "paradime run --help",
            f"{ours * 1000:.0f} ms",
            "<= 150 ms",
            ours <= 0.150,
        )
    )
    invoke = median[ONE_INVOKE]
    rows.append(
        target_row(
            "startup",
            "one-target aws-lambda-invoke, process start to exit (median)",
            f"{invoke * 1000:.0f} ms",
            "<= 350 ms",
            invoke <= 0.350,
        )
    )
    if old:
        theirs = median[OLD_INVOKE]
        rows.append(
            target_row(
                "startup",
                "one-target invoke: paradime-io 6.9.0 / paradime, same run",
                f"{theirs / invoke:.1f}x",
                ">= 3x",
                theirs / invoke >= 3.0,
                reference=f"paradime-io 6.9.0: {theirs * 1000:.0f} ms",
            )
        )
        help_ratio = median[OLD_HELP] / ours
        rows.append(
            target_row(
                "startup",
                "run --help: paradime-io 6.9.0 / paradime, same run",
                f"{help_ratio:.1f}x",
                ">= 5x",
                help_ratio >= 5.0,
                reference=f"paradime-io 6.9.0: {median[OLD_HELP] * 1000:.0f} ms",
            )
        )
    return rows


ONE_INVOKE = "paradime run aws-lambda-invoke (1 target, emulator)"
OLD_INVOKE = "paradime-io 6.9.0: run aws-lambda-trigger (1 target, emulator)"
OLD_HELP = "paradime-io 6.9.0: run aws-lambda-trigger --help"


def lambda_default_concurrency() -> int:
    """The default of --max-concurrency of aws-lambda-invoke, as its --help shows it."""
    import re

    shown = subprocess.run(
        [PARADIME, "run", "aws-lambda-invoke", "--help"],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "COLUMNS": "200"},
    ).stdout
    found = re.search(r"--max-concurrency INTEGER.*?\[default: (\d+)\]", shown, re.S)
    return int(found.group(1)) if found else 10


def target_row(
    benchmark: str,
    what: str,
    figure: str,
    target: str,
    met: bool,
    reference: str = "",
) -> Row:
    """A row of the summary: one target, its figure, what it was compared with, met or not."""
    return {
        "benchmark": benchmark,
        "what": what,
        "figure": figure,
        "reference": reference,
        "target": target,
        "met": met,
    }


# -- 2. concurrency ---------------------------------------------------------------------------
def bench_concurrency() -> list[Row]:
    """Long synchronous invokes at the default concurrency (target 1): N functions that each take
    D seconds, and the threads and connections of a run over 1,000 functions."""
    duration = 2.0
    count = 30 if QUICK else 100
    many = 200 if QUICK else 1000
    emulator = Emulator()
    rows: list[Row] = []
    try:
        names = create_functions(emulator, many)
        env = emulator.env
        # Every request through the proxy takes D seconds: a function running for D.
        emulator.proxy.latency_s = duration
        some = ",".join(names[:count])
        ours = [PARADIME, "run", "aws-lambda-invoke", "--function-name", some, "--json"]
        walls, peaks = [], []
        for _ in range(1 if QUICK else 3):
            emulator.proxy.requests.clear()
            emulator.proxy.in_flight_peak = 0
            wall, _, code = timed(ours, env)
            walls.append(wall)
            peaks.append(emulator.proxy.in_flight_peak)
            if code != 0 or emulator.proxy.count("/invocations") != count:
                raise SystemExit(f"{count} invokes: exit {code}, {emulator.proxy.actions()}")
        wall = statistics.median(walls)
        old_default, _, _ = timed([*ours, "--max-concurrency", "10"], env)
        rows.append(
            {
                "benchmark": "concurrency",
                "what": f"{count} functions of {duration:g} s, default concurrency",
                "wall_s": round(wall, 2),
                "invokes_in_flight_at_once": max(peaks),
                "with --max-concurrency 10 (the former default)": round(old_default, 2),
            }
        )
        reference = f"--max-concurrency 10: {old_default:.1f} s"
        old = side_venv("paradime-io-6.9.0", "paradime-io==6.9.0", "paradime")
        if old:
            theirs, _, _ = timed([old, "run", "aws-lambda-trigger", "--function-names", some], env)
            reference += f"; paradime-io 6.9.0: {theirs:.1f} s"
        rows.append(
            target_row(
                "concurrency",
                f"{count} synchronous invokes of D = {duration:g} s each, process start to exit",
                f"{wall:.2f} s",
                f"<= D + 1 s = {duration + 1:g} s",
                wall <= duration + 1,
                reference=reference,
            )
        )
        rows.append(_many_targets(emulator, names, env))
    finally:
        emulator.stop()
    return rows


def _many_targets(emulator: Emulator, names: list[str], env: dict[str, str]) -> Row:
    """Peak threads of the process and connections at the proxy, for every function at once."""
    duration = 0.5
    emulator.proxy.requests.clear()
    emulator.proxy.latency_s = duration
    cmd = [PARADIME, "run", "aws-lambda-invoke", "--function-name", ",".join(names), "--json"]
    start = time.perf_counter()
    # The result is not read: a pipe left unread would fill and stop the process.
    process = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    threads = 0
    status = Path(f"/proc/{process.pid}/status")
    while process.poll() is None:
        try:
            line = next(x for x in status.read_text().splitlines() if x.startswith("Threads:"))
            threads = max(threads, int(line.split()[1]))
        except (OSError, StopIteration, ValueError):
            pass
        time.sleep(0.02)
    wall = time.perf_counter() - start
    concurrency = lambda_default_concurrency()
    bound_threads = 1 + min(concurrency, len(names))  # synchronous invokes never poll
    connections = emulator.proxy.connections()
    return {
        **target_row(
            "concurrency",
            f"{len(names)} synchronous invokes of {duration:g} s: peak threads / connections",
            f"{threads} threads, {connections} connections",
            f"<= {bound_threads} threads, <= {concurrency} connections",
            threads <= bound_threads and connections <= concurrency and process.returncode == 0,
            reference=f"wall {wall:.1f} s; ideal {len(names) / concurrency * duration:.1f} s",
        ),
        "invokes": emulator.proxy.count("/invocations"),
        "exit": process.returncode,
    }


# -- 3. fan-out ----------------------------------------------------------------------------
def bench_fanout() -> list[Row]:
    """200 short invokes (100 ms added per request) against a bare boto3 thread pool making the
    same calls at the same concurrency, interleaved in one run (target 4)."""
    count = 40 if QUICK else 200
    rounds = 2 if QUICK else 5
    emulator = Emulator()
    rows: list[Row] = []
    try:
        names = create_functions(emulator, count)
        env = emulator.env
        emulator.proxy.latency_s = 0.1
        rtt = _invoke_rtt(emulator, names[0])
        for concurrency in sorted({10, lambda_default_concurrency()}):
            cmd = [
                PARADIME,
                "run",
                "aws-lambda-invoke",
                "--function-name",
                ",".join(names),
                "--max-concurrency",
                str(concurrency),
                "--json",
            ]
            ours, pool = [], []
            for i in range(rounds):  # alternate which goes first
                for side in ("ours", "pool") if i % 2 == 0 else ("pool", "ours"):
                    emulator.proxy.requests.clear()
                    if side == "pool":
                        pool.append(_raw_pool(emulator, names, concurrency))
                        continue
                    wall, _, code = timed(cmd, env)
                    if code != 0 or emulator.proxy.count("/invocations") != count:
                        raise SystemExit(f"fan-out failed: exit {code}")
                    ours.append(wall)
            ratio = statistics.median(ours) / statistics.median(pool)
            ideal = math.ceil(count / concurrency) * rtt
            rows.append(
                {
                    "benchmark": "fanout",
                    "what": f"{count} invokes at concurrency {concurrency}",
                    "paradime_s": round(statistics.median(ours), 2),
                    "bare_pool_s": round(statistics.median(pool), 2),
                    "ideal_s": round(ideal, 2),
                    "rounds": rounds,
                }
            )
            rows.append(
                target_row(
                    "fanout",
                    f"{count} invokes at concurrency {concurrency}: paradime / bare boto3 pool",
                    f"{ratio:.2f}x",
                    "<= 1.15x",
                    ratio <= 1.15,
                    reference=f"pool {statistics.median(pool):.2f} s, paradime "
                    f"{statistics.median(ours):.2f} s (start-up included)",
                )
            )
        old = side_venv("paradime-io-6.9.0", "paradime-io==6.9.0", "paradime")
        if old:
            emulator.proxy.requests.clear()
            owall, _, _ = timed(
                [old, "run", "aws-lambda-trigger", "--function-names", ",".join(names)], env
            )
            rows.append(
                {
                    "benchmark": "fanout",
                    "what": f"paradime-io 6.9.0: {count} invokes",
                    "wall_s": round(owall, 2),
                    "invocations_seen": emulator.proxy.count("/invocations"),
                }
            )
        rows.append(
            {
                "benchmark": "fanout",
                "what": "single invoke round trip via proxy",
                "rtt_ms": round(rtt * 1000, 1),
            }
        )
        return rows
    finally:
        emulator.stop()


def _raw_pool(emulator: Emulator, names: list[str], concurrency: int) -> float:
    from concurrent.futures import ThreadPoolExecutor

    import boto3
    from botocore.config import Config

    client = boto3.client(
        "lambda",
        region_name="us-east-1",
        endpoint_url=emulator.proxy.url,
        aws_access_key_id="x",
        aws_secret_access_key="y",
        config=Config(max_pool_connections=concurrency, retries={"total_max_attempts": 1}),
    )

    def invoke(name: str) -> bytes:
        # The same call paradime makes, the function's answer read as it reads it.
        return bytes(client.invoke(FunctionName=name)["Payload"].read())

    start = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(invoke, names))
    return time.perf_counter() - start


def _invoke_rtt(emulator: Emulator, name: str) -> float:
    client = emulator.aws.client("lambda")
    import boto3

    proxied = boto3.client(
        "lambda",
        region_name="us-east-1",
        endpoint_url=emulator.proxy.url,
        aws_access_key_id="x",
        aws_secret_access_key="y",
    )
    client.get_function(FunctionName=name)
    samples = []
    for _ in range(7):
        start = time.perf_counter()
        proxied.invoke(FunctionName=name, Payload=b"{}")
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


# -- 3. polling cost -----------------------------------------------------------------------
def bench_polling() -> list[Row]:
    from paradime import log
    from paradime.api import RunState, RunStatus, TargetOption, TriggerCommand
    from paradime.engine import Engine
    from paradime.hookspecs import Runner
    from paradime.output import Reporter
    from paradime.polling import FakeClock

    log.configure("error")

    class TimedRunner(Runner):
        def __init__(self, clock: FakeClock, length: float) -> None:
            self.clock, self.length, self.polls = clock, length, []

        def trigger(self, target: str) -> RunState:
            return RunState(RunStatus.RUNNING, run_id=target, handle=self.clock.monotonic())

        def poll(self, target: str, state: RunState) -> RunState:
            age = self.clock.monotonic() - state.handle
            self.polls.append(age)
            return RunState(RunStatus.SUCCEEDED if age >= self.length else RunStatus.RUNNING)

    command = TriggerCommand(
        name="timed",
        help="",
        provider="bench",
        service="bench",
        target=TargetOption("--t", ""),
        factory=lambda p, c: None,
    )  # type: ignore[arg-type,return-value]
    rows: list[Row] = []
    seeds = range(5 if QUICK else 25)
    for length, label in (
        (5, "5 s"),
        (60, "1 min"),
        (600, "10 min"),
        (3600, "1 h"),
        (86400, "24 h"),
    ):
        calls, delays = [], []
        for seed in seeds:
            clock = FakeClock()
            runner = TimedRunner(clock, length)
            Engine(
                command,
                runner,
                ["run"],
                wait=True,
                timeout_s=3 * 86400,
                max_concurrency=1,
                cancel_on_exit=False,
                reporter=Reporter("timed"),
                clock=clock,
                rng=random.Random(seed),
                handle_signals=False,
            ).run()
            calls.append(len(runner.polls))
            delays.append(runner.polls[-1] - length)
        allowed = min(30.0, max(2.0, 0.1 * length))
        call_target = {600: 50, 86400: 3000}.get(length)
        rows.append(
            {
                "benchmark": "polling",
                "what": f"run of {label}",
                "calls_median": statistics.median(calls),
                "calls_max": max(calls),
                "delay_median_s": round(statistics.median(delays), 2),
                "delay_max_s": round(max(delays), 2),
                "delay_allowed_s": allowed,
                "paradime-io calls (SFN 10 s / SageMaker 30 s)": (
                    f"{math.ceil(length / 10)} / {math.ceil(length / 30)}"
                ),
                "met": max(delays) <= allowed
                and (call_target is None or max(calls) <= call_target),
            }
        )
    return rows


# -- 4. scale ------------------------------------------------------------------------------
RAISED_POLL_RATE = 40.0


def bench_scale() -> list[Row]:
    """1,000 Step Functions executions waited on at once, at the default poll rate and at a
    raised one (target 3), on virtual time (``bench/sfn_scale.py``, one process each)."""
    count = 200 if QUICK else 1000
    seconds = 120
    rows: list[Row] = []
    for rate in (None, RAISED_POLL_RATE):
        cmd = [sys.executable, str(HERE / "sfn_scale.py"), "--executions", str(count)]
        cmd += ["--seconds", str(seconds)]
        if rate is not None:
            cmd += ["--rate", str(rate)]
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise SystemExit(f"sfn_scale.py failed: {done.stderr[-2000:]}")
        doc = json.loads(done.stdout.strip().splitlines()[-1])
        rate_used = doc["poll_rate_per_s"]
        label = "default" if rate is None else "raised"
        rows.append({"benchmark": "scale", "what": f"{count} executions, {label} rate", **doc})
        bound = 30.0 if count <= rate_used * 30 else count / rate_used
        rows.append(
            target_row(
                "scale",
                f"{count} executions of {seconds} s, --poll-rate {rate_used:g} ({label}), "
                "virtual time: worst detection delay / status checks a second",
                f"{doc['late_max_s']:.0f} s / {doc['describe_per_s_mean']:g} per s (at most "
                f"{doc['describe_peak_per_s']} in one second)",
                f"delay <= {bound:.0f} s (runs / rate, or 30 s); checks <= 2 x rate in any second",
                doc["late_max_s"] <= bound + 2
                and doc["describe_peak_per_s"] <= 2 * rate_used + 1
                and doc["statuses"] == {"SUCCEEDED": count},
                reference=f"{len(doc['warnings'])} poll-budget warning(s); starts over "
                f"{doc['starts_span_s']:g} s, at most {doc['start_peak_per_s']} in one second",
            )
        )
    rows.append(_scale_process(count))
    return rows


def _scale_process(count: int) -> Row:
    from sfn_scale import per_second_peak

    """The installed CLI over ``count`` executions of 5 s in real time, at the raised rate: its
    peak RSS (the emulator is in another process here), wall time and the rates at the proxy."""
    emulator = Emulator()
    try:
        sfn = emulator.aws.client("stepfunctions")
        iam = emulator.aws.client("iam")
        role = iam.create_role(RoleName="bench-sfn", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        definition = {
            "StartAt": "Wait",
            "States": {
                "Wait": {"Type": "Wait", "Seconds": 5, "Next": "Done"},
                "Done": {"Type": "Succeed"},
            },
        }
        arns = [
            sfn.create_state_machine(
                name=f"bench-sm-{i:04d}", definition=json.dumps(definition), roleArn=role
            )["stateMachineArn"]
            for i in range(count)
        ]
        emulator.proxy.requests.clear()
        cmd = ["/usr/bin/time", "-f", "%M %U %S", PARADIME, "run"]
        cmd += ["aws-stepfunctions-start-execution", "--state-machine-arn", ",".join(arns)]
        cmd += ["--poll-rate", f"{RAISED_POLL_RATE:g}", "--json", "--log-level", "warning"]
        start = time.perf_counter()
        done = subprocess.run(cmd, env=emulator.env, capture_output=True, text=True, check=False)
        wall = time.perf_counter() - start
        rss_kb, user, system = done.stderr.strip().splitlines()[-1].split()
        doc = json.loads(done.stdout)
        polls = [r.at for r in emulator.proxy.requests if r.action == "DescribeExecution"]
        starts = [r.at for r in emulator.proxy.requests if r.action == "StartExecution"]
    finally:
        emulator.stop()
    statuses: dict[str, int] = {}
    for row in doc["results"]:
        statuses[row["status"]] = statuses.get(row["status"], 0) + 1
    rss_mb = int(rss_kb) / 1024
    return {
        **target_row(
            "scale",
            f"{count} executions of 5 s, real time, installed CLI, --poll-rate "
            f"{RAISED_POLL_RATE:g}: peak RSS",
            f"{rss_mb:.0f} MB",
            "<= 200 MB",
            rss_mb <= 200 and statuses == {"SUCCEEDED": count},
            reference=f"wall {wall:.0f} s, CPU {float(user) + float(system):.1f} s",
        ),
        "statuses": statuses,
        "describe_calls": len(polls),
        "describe_peak_per_s": per_second_peak(polls),
        "start_peak_per_s": per_second_peak(starts),
    }
