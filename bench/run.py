"""Benchmarks, side by side in one run on this machine: ``python3 dev.py bench``.

    python bench/run.py                     # everything
    python bench/run.py startup polling     # some of: startup fanout polling scale overhead
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
import platform
import random
import resource
import statistics
import subprocess
import sys
import time
import venv
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
VENVS = HERE / ".venvs"
RESULTS = HERE / "results"
BIN = Path(sys.executable).parent
PARADIME = str(BIN / "paradime")
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
    repeats = 5 if QUICK else 21
    env = {**os.environ, "NO_COLOR": "1"}
    commands: dict[str, Sequence[str]] = {
        "paradime --help": [PARADIME, "--help"],
        "paradime run --help": [PARADIME, "run", "--help"],
        "paradime run aws-lambda-invoke --help": [PARADIME, "run", "aws-lambda-invoke", "--help"],
    }
    aws = side_venv("awscli", "awscli>=1.32,<2", "aws")
    if aws:
        commands["aws --version (AWS CLI)"] = [aws, "--version"]
    old = side_venv("paradime-io-6.9.0", "paradime-io==6.9.0", "paradime")
    if old:
        commands["paradime-io 6.9.0: run aws-lambda-trigger --help"] = [
            old,
            "run",
            "aws-lambda-trigger",
            "--help",
        ]
    times = interleaved(commands, repeats, env)
    rows = [
        {
            "benchmark": "startup",
            "what": name,
            "median_ms": round(statistics.median(t) * 1000, 1),
            "runs": len(t),
        }
        for name, t in times.items()
    ]
    ours = statistics.median(times["paradime run --help"])
    if old:
        theirs = statistics.median(times["paradime-io 6.9.0: run aws-lambda-trigger --help"])
        rows.append(
            {
                "benchmark": "startup",
                "what": "paradime-io 6.9.0 / paradime run --help",
                "ratio": round(theirs / ours, 1),
                "target": ">= 5x",
            }
        )
    rows.append(
        {
            "benchmark": "startup",
            "what": "paradime run --help target",
            "median_ms": round(ours * 1000, 1),
            "target": "<= 150 ms",
            "met": ours <= 0.150,
        }
    )
    return rows


# -- 2. fan-out ----------------------------------------------------------------------------
def bench_fanout() -> list[Row]:
    count = 40 if QUICK else 200
    concurrency = 10
    emulator = Emulator()
    try:
        names = create_functions(emulator, count)
        emulator.proxy.latency_s = 0.1
        env = emulator.env
        # One invoke's round trip through the proxy: the unit of the ideal.
        single = [
            timed([PARADIME, "run", "aws-lambda-invoke", "--function-name", names[0]], env)[0]
            for _ in range(3)
        ]
        emulator.proxy.clear()
        emulator.proxy.latency_s = 0.1
        rtt = _invoke_rtt(emulator, names[0])
        rows: list[Row] = []
        # The emulator and the proxy share this machine's two cores with the client: the best a
        # client can do here is a bare boto3 thread pool in-process (no start-up, no output).
        floor = statistics.median(_raw_pool(emulator, names, concurrency) for _ in range(3))
        walls = []
        for _ in range(1 if QUICK else 3):
            emulator.proxy.requests.clear()
            wall, _, code = timed(
                [
                    PARADIME,
                    "run",
                    "aws-lambda-invoke",
                    "--function-name",
                    ",".join(names),
                    "--json",
                ],
                env,
            )
            walls.append(wall)
            invokes = emulator.proxy.count("/invocations", forwarded_only=True)
        wall = statistics.median(walls)
        rows.append(
            {
                "benchmark": "fanout",
                "what": f"bare boto3 pool of {concurrency} threads, in-process: {count} invokes",
                "wall_s": round(floor, 2),
                "paradime_vs_this": round(wall / floor, 2),
            }
        )
        ideal = math.ceil(count / concurrency) * rtt
        rows.append(
            {
                "benchmark": "fanout",
                "what": f"paradime: {count} invokes",
                "wall_s": round(wall, 2),
                "exit": code,
                "invocations_seen": invokes,
                "ideal_s": round(ideal, 2),
                "x_ideal": round(wall / ideal, 2),
                "target": "<= 1.5x ideal",
            }
        )
        old = side_venv("paradime-io-6.9.0", "paradime-io==6.9.0", "paradime")
        if old:
            emulator.proxy.requests.clear()
            owall, _, ocode = timed(
                [old, "run", "aws-lambda-trigger", "--function-names", ",".join(names)], env
            )
            rows.append(
                {
                    "benchmark": "fanout",
                    "what": f"paradime-io 6.9.0: {count} invokes",
                    "wall_s": round(owall, 2),
                    "exit": ocode,
                    "invocations_seen": emulator.proxy.count("/invocations", forwarded_only=True),
                    "ratio_vs_paradime": round(owall / wall, 1),
                    "target": ">= 5x slower",
                }
            )
        aws = side_venv("awscli", "awscli>=1.32,<2", "aws")
        if aws:
            loop = names[: 20 if not QUICK else 5]
            emulator.proxy.requests.clear()
            start = time.perf_counter()
            for name in loop:
                subprocess.run(
                    [aws, "lambda", "invoke", "--function-name", name, os.devnull],
                    env=env,
                    capture_output=True,
                    check=False,
                )
            per = (time.perf_counter() - start) / len(loop)
            rows.append(
                {
                    "benchmark": "fanout",
                    "what": f"shell loop of aws lambda invoke (x{count}, "
                    f"extrapolated from {len(loop)})",
                    "wall_s": round(per * count, 1),
                    "ratio_vs_paradime": round(per * count / wall, 1),
                }
            )
        rows.append(
            {
                "benchmark": "fanout",
                "what": "single invoke round trip via proxy",
                "rtt_ms": round(rtt * 1000, 1),
                "one-target CLI run (s)": round(statistics.median(single), 2),
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
    start = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(lambda n: client.invoke(FunctionName=n, Payload=b"{}"), names))
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
def bench_scale() -> list[Row]:
    count = 100 if QUICK else 1000
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
        cmd = [
            "/usr/bin/time",
            "-f",
            "%M %U %S",
            PARADIME,
            "run",
            "aws-stepfunctions-start-execution",
            "--state-machine-arn",
            ",".join(arns),
            "--json",
            "--log-level",
            "warning",
        ]
        start = time.perf_counter()
        done = subprocess.run(cmd, env=emulator.env, capture_output=True, text=True, check=False)
        wall = time.perf_counter() - start
        rss_kb, user, system = done.stderr.strip().splitlines()[-1].split()
        doc = json.loads(done.stdout)
        polls = sorted(r.at for r in emulator.proxy.requests if r.action == "DescribeExecution")
        per_second: dict[int, int] = {}
        for at in polls:
            per_second[int(at)] = per_second.get(int(at), 0) + 1
        from paradime_aws_stepfunctions import TRIGGER_COMMAND

        cap = TRIGGER_COMMAND.poll_rate_per_s
        # Token bucket (burst = rate): any span of t seconds holds at most rate * t + burst calls.
        # Arrival at the proxy adds jitter of a few ms, hence the 50 ms allowance.
        worst = 0.0
        for i, first in enumerate(polls):
            for j in range(i, len(polls)):
                allowed = cap * (polls[j] - first + 0.05) + max(1.0, cap)
                worst = max(worst, (j - i + 1) / allowed)
    finally:
        emulator.stop()
    statuses: dict[str, int] = {}
    for row in doc["results"]:
        statuses[row["status"]] = statuses.get(row["status"], 0) + 1
    return [
        {
            "benchmark": "scale",
            "what": f"{count} Step Functions executions (5 s Wait)",
            "wall_s": round(wall, 1),
            "reported": len(doc["results"]),
            "statuses": statuses,
            "describe_calls": len(polls),
            "max_describe_per_s": max(per_second.values(), default=0),
            "cap_per_s": cap,
            "cap_respected": worst <= 1.0,
            "peak_rss_mb": round(int(rss_kb) / 1024, 1),
            "cpu_s": round(float(user) + float(system), 2),
            "target": "every run reported, cap never exceeded, RSS <= 200 MB",
        }
    ]


# -- 5. overhead ---------------------------------------------------------------------------
def bench_overhead() -> list[Row]:
    emulator = Emulator()
    try:
        names = create_functions(emulator, 200 if not QUICK else 20)
        env = emulator.env
        one = [PARADIME, "run", "aws-lambda-invoke", "--function-name", names[0]]
        every = [PARADIME, "run", "aws-lambda-invoke", "--function-name", ",".join(names)]
        # Interleaved, so load from elsewhere on the machine hits both alike.
        ones, alls = [], []
        for _ in range(3 if QUICK else 7):
            ones.append(timed(one, env)[1])
            alls.append(timed(every, env)[1])
        cpu_one, cpu_all = statistics.median(ones), statistics.median(alls)
        per_target = (cpu_all - cpu_one) / (len(names) - 1)
        rows: list[Row] = [
            {
                "benchmark": "overhead",
                "what": "paradime CPU per extra target",
                "cpu_ms": round(per_target * 1000, 1),
                "process_cpu_ms (1 target)": round(cpu_one * 1000, 1),
            }
        ]
        aws = side_venv("awscli", "awscli>=1.32,<2", "aws")
        if aws:
            cpu_aws = statistics.median(
                timed([aws, "lambda", "invoke", "--function-name", names[0], os.devnull], env)[1]
                for _ in range(3)
            )
            rows.append(
                {
                    "benchmark": "overhead",
                    "what": "AWS CLI CPU per invoke (one process each)",
                    "cpu_ms": round(cpu_aws * 1000, 1),
                    "ratio_vs_paradime_per_target": round(cpu_aws / per_target, 1)
                    if per_target > 0
                    else None,
                }
            )
        return rows
    finally:
        emulator.stop()


BENCHMARKS: dict[str, Callable[[], list[Row]]] = {
    "startup": bench_startup,
    "fanout": bench_fanout,
    "polling": bench_polling,
    "scale": bench_scale,
    "overhead": bench_overhead,
}


def main() -> int:
    chosen = [a for a in sys.argv[1:] if not a.startswith("--")] or list(BENCHMARKS)
    rows: list[Row] = []
    for name in chosen:
        print(f"== {name}", flush=True)
        result = BENCHMARKS[name]()
        for row in result:
            print(
                "  " + json.dumps({k: v for k, v in row.items() if k != "benchmark"}, default=str)
            )
        rows.extend(result)
    RESULTS.mkdir(exist_ok=True)
    machine = {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "system": platform.platform(),
    }
    (RESULTS / "latest.json").write_text(
        json.dumps({"machine": machine, "rows": rows}, indent=2, default=str)
    )
    print(f"\nwritten to {RESULTS.relative_to(ROOT) / 'latest.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
