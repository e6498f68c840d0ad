"""Scenario 1, throttle storm: a third of all requests throttled, and nothing is lost or doubled.

Every request of every service (triggers, status checks, configuration and log reads) goes
through the fault proxy, which answers 30 % of them as the service does when it throttles: Lambda
``429 TooManyRequestsException``, the JSON services (Step Functions, SageMaker, CloudWatch Logs)
``400 ThrottlingException``. botocore's own retries run without their sleeps; core's trigger and
poll retries run on the fast test schedule.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from paradime.engine import DEADLINE_GRACE_S
from paradime.testing import CliResult, run_cli
from paradime.testing.proxy import ProxyRequest, Reply
from paradime_aws_common.testing import throttle

pytestmark = pytest.mark.usefixtures("fast_polling", "instant_botocore_retries")

LAMBDA = "aws-lambda-invoke"
SFN = "aws-stepfunctions-start-execution"
SAGEMAKER = "aws-sagemaker-start-pipeline"
TRIGGERS = ("/invocations", "StartExecution", "StartPipelineExecution")
POLLS = ("DescribeExecution", "DescribePipelineExecution", "FilterLogEvents")


def storm(probability: float, seed: int, max_in_a_row: int = 5) -> Callable[..., Any]:
    """A proxy rule throttling ``probability`` of the requests of every AWS service.

    The first request of each action is always throttled (so that every path meets at least
    one), then each request independently with the given probability, seeded. One request is
    never refused more than ``max_in_a_row`` times in a row: core makes 6 attempts of an invoke
    that botocore does not retry, and a storm that refuses one invoke 6 times is the never-ending
    case, tested on its own below.
    """
    rng = random.Random(seed)
    lock = threading.Lock()
    streaks: dict[tuple[str, str, bytes], int] = {}
    seen: set[str] = set()

    def rule(request: ProxyRequest) -> Reply | None:
        if request.service is None:
            return None
        key = (request.method, request.path, request.body)
        with lock:
            first = request.action not in seen
            seen.add(request.action)
            if streaks.get(key, 0) < max_in_a_row and (first or rng.random() < probability):
                streaks[key] = streaks.get(key, 0) + 1
                return throttle(request.service)
            streaks[key] = 0
        return None

    return rule


def throttled(proxy: Any, actions: tuple[str, ...]) -> int:
    return sum(
        1
        for r in list(proxy.requests)
        if r.fault and any(r.action == a or a in r.action for a in actions)
    )


@dataclass
class Case:
    """One command under the storm: its arguments and each target's true outcome."""

    command: str
    args: list[str]
    truth: dict[str, str]


def lambda_sync_case(emulators: Any) -> Case:
    emulators.functions.create("load-orders", "load-users", "export", "broken")
    emulators.lambda_.behave("broken", function_error="Unhandled", error_type="KeyError")
    truth = {
        "load-orders": "SUCCEEDED",
        "load-users": "SUCCEEDED",
        "export": "SUCCEEDED",
        "broken": "FAILED",
    }
    return Case(LAMBDA, ["--function-name", ",".join(truth), "--payload", '{"day": 1}'], truth)


def lambda_event_case(emulators: Any) -> Case:
    emulators.functions.create("fire-a", "fire-b", "fire-bad")
    emulators.lambda_.behave("fire-bad", async_outcome="python-error")
    truth = {"fire-a": "SUCCEEDED", "fire-b": "SUCCEEDED", "fire-bad": "FAILED"}
    args = ["--function-name", ",".join(truth), "--invocation-type", "Event"]
    return Case(LAMBDA, args, truth)


def sfn_case(emulators: Any) -> Case:
    from paradime_aws_stepfunctions.testing import pass_machine, wait_machine

    arns = [
        emulators.machines.arn("greet", pass_machine()),
        emulators.machines.arn("report", pass_machine({"rows": 3})),
        emulators.machines.arn("nap", wait_machine(1)),
    ]
    truth = dict.fromkeys(arns, "SUCCEEDED")
    args = [arg for arn in arns for arg in ("--state-machine-arn", arn)]
    return Case(SFN, args, truth)


def sagemaker_case(emulators: Any) -> Case:
    for name in ("train", "score", "broken"):
        emulators.sagemaker.create_pipeline(name)
    emulators.sagemaker.script("train", "Executing", "Executing", "Succeeded")
    emulators.sagemaker.script("score", "Succeeded")
    emulators.sagemaker.script(
        "broken",
        "Executing",
        "Failed",
        failure_reason="Step Train failed",
        steps=[{"StepName": "Train", "StepStatus": "Failed", "FailureReason": "OOM"}],
    )
    truth = {"train": "SUCCEEDED", "score": "SUCCEEDED", "broken": "FAILED"}
    return Case(SAGEMAKER, ["--pipeline-name", ",".join(truth)], truth)


CASES = {
    "lambda-request-response": lambda_sync_case,
    "lambda-event": lambda_event_case,
    "stepfunctions": sfn_case,
    "sagemaker": sagemaker_case,
}


def duplicates(emulators: Any, case: Case) -> int:
    if case.command == LAMBDA:
        return int(emulators.duplicate_invocations())
    if case.command == SFN:
        return int(emulators.duplicate_executions(list(case.truth)))
    return int(emulators.duplicate_pipeline_executions(list(case.truth)))


def runs_started(emulators: Any, case: Case) -> dict[str, int]:
    """How many runs each target has at the emulator."""
    if case.command == LAMBDA:
        return {t: len(emulators.lambda_.invoked(t)) for t in case.truth}
    if case.command == SFN:
        return {t: len(emulators.machines.executions(t)) for t in case.truth}
    return {t: len(emulators.sagemaker.executions(t)) for t in case.truth}


@pytest.mark.parametrize("seed", [11, 29])
@pytest.mark.parametrize("name", list(CASES))
def test_a_throttle_storm_changes_no_outcome_and_starts_each_run_once(
    name, seed, emulators, aws_faults, ledger
):
    case = CASES[name](emulators)
    aws_faults.add_rule(storm(0.3, seed))
    result = run_cli(["run", case.command, *case.args, "--json"])
    assert result.statuses == case.truth, result.stderr
    assert result.exit_code == (0 if set(case.truth.values()) == {"SUCCEEDED"} else 1)
    assert runs_started(emulators, case) == dict.fromkeys(case.truth, 1)
    # Both paths met the storm, and it was retried through.
    assert throttled(aws_faults, TRIGGERS) >= 1
    assert throttled(aws_faults, POLLS) >= 1 or name == "lambda-request-response"
    assert "Traceback" not in result.stderr
    ledger.record(
        "1", proxy=aws_faults, targets=len(case.truth), duplicates=duplicates(emulators, case)
    )


# -- throttling that never ends --------------------------------------------------------------
@pytest.fixture
def slow_trigger_backoff(monkeypatch: pytest.MonkeyPatch) -> float:
    """Core's trigger backoff at 0.4 s (1 s in production): its six attempts would take about
    12 s, more than the 3 s these commands are given."""
    monkeypatch.setattr("paradime.engine.TRIGGER_BACKOFF_S", 0.4)
    return 0.4


def never_ending(emulators: Any, provider: str) -> tuple[str, list[str], str, str]:
    """(command, arguments, the throttled target, the action of its trigger)."""
    if provider == "lambda":
        emulators.functions.create("hot", "cool-1", "cool-2")
        return LAMBDA, ["--function-name", "hot,cool-1,cool-2"], "hot", "/functions/hot/invoc"
    if provider == "stepfunctions":
        from paradime_aws_stepfunctions.testing import pass_machine

        hot, *cool = (emulators.machines.arn(n, pass_machine()) for n in ("hot", "c1", "c2"))
        args = [arg for arn in (hot, *cool) for arg in ("--state-machine-arn", arn)]
        return SFN, args, hot, "StartExecution"
    for name in ("hot", "cool-1", "cool-2"):
        emulators.sagemaker.create_pipeline(name)
    emulators.sagemaker.script("cool-1", "Executing", "Succeeded")
    return SAGEMAKER, ["--pipeline-name", "hot,cool-1,cool-2"], "hot", "StartPipelineExecution"


def only_for(target: str, action: str) -> Callable[[ProxyRequest], Reply | None]:
    """Throttle every request of ``action`` about ``target`` (named in its path or body)."""

    def rule(request: ProxyRequest) -> Reply | None:
        about = target.encode() in request.body or f"/{target}/" in request.path
        if action in request.action and about:
            return throttle(request.service)
        return None

    return rule


@pytest.mark.parametrize("provider", ["lambda", "stepfunctions", "sagemaker"])
def test_throttling_that_never_ends_is_throttled_before_the_deadline_and_spares_the_others(
    provider, emulators, aws_faults, slow_trigger_backoff, ledger
):
    command, args, hot, action = never_ending(emulators, provider)
    aws_faults.add_rule(only_for(hot, action))
    timeout_minutes = 0.05  # 3 s
    began = time.monotonic()
    result: CliResult = run_cli(
        ["run", command, *args, "--timeout-minutes", str(timeout_minutes), "--json"]
    )
    elapsed = time.monotonic() - began
    assert result.exit_code == 1
    rows = {row["target"]: row for row in result.json["results"]}
    assert rows[hot]["status"] == "THROTTLED", rows[hot]
    code = "TooManyRequestsException" if provider == "lambda" else "ThrottlingException"
    assert code in rows[hot]["error"]
    assert {t: row["status"] for t, row in rows.items() if t != hot} == {
        t: "SUCCEEDED" for t in rows if t != hot
    }
    # Within the deadline (and the grace a call on the wire gets at it), not after all retries.
    assert elapsed < timeout_minutes * 60 + DEADLINE_GRACE_S + 1.0, result.stderr
    # Nothing was started for the throttled target.
    started = runs_started(emulators, Case(command, [], {hot: "THROTTLED"}))
    assert started == {hot: 0}
    ledger.record("1", proxy=aws_faults, targets=len(rows), duplicates=0)


def test_a_throttle_answered_after_the_deadline_is_throttled_not_timed_out(
    emulators, aws_faults, ledger
):
    """Each throttle takes the service 1 s to send: the retry is on the wire at the deadline,
    and its answer (throttled again) decides the row."""
    emulators.functions.create("hot")

    def slow_throttle(request: ProxyRequest) -> Reply | None:
        if "/functions/hot/invocations" not in request.action:
            return None
        time.sleep(1.0)
        return throttle("lambda")

    aws_faults.add_rule(slow_throttle)
    result = run_cli(["run", LAMBDA, "--function-name", "hot", "--timeout-minutes", "0.03"])
    assert result.exit_code == 1
    assert "THROTTLED" in result.stdout, result.stdout
    assert "TooManyRequestsException" in result.stdout
    assert emulators.lambda_.invoked("hot") == []
    ledger.record("1", proxy=aws_faults, targets=1, duplicates=0)
