"""Scenarios 2 and 3: server errors, dropped connections and slow answers.

* Status checks change nothing remotely: a 5xx or a reset is retried (botocore first, then core
  with backoff), and only a bounded run of consecutive failures ends the run ``ERROR``, keeping
  its run id; the other runs go on.
* A Lambda invoke that may have reached Lambda (its answer lost to a 5xx, a reset or a read
  timeout) is never sent again: ``ERROR`` saying so, the function ran once.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from paradime.engine import TRIGGER_ATTEMPTS
from paradime.polling import PollPolicy
from paradime.testing import run_cli
from paradime.testing.proxy import RESET, Delay, Lost, ProxyRequest
from paradime_aws_common.session import DEFAULT_MAX_ATTEMPTS
from paradime_aws_common.testing import server_error, when

pytestmark = pytest.mark.usefixtures("fast_polling", "instant_botocore_retries")

LAMBDA = "aws-lambda-invoke"
SFN = "aws-stepfunctions-start-execution"
SAGEMAKER = "aws-sagemaker-start-pipeline"
FAULTS = {"server-error": server_error, "connection-reset": lambda: RESET}


def about(target: str, action: str, outcome: Callable[[], Any], times: int | None = None) -> Any:
    """A rule answering ``outcome()`` to requests of ``action`` naming ``target`` in their body
    (at most ``times`` of them)."""
    left = {"n": times}

    def rule(request: ProxyRequest) -> Any:
        if action not in request.action or target.encode() not in request.body:
            return None
        if left["n"] is not None:
            if left["n"] <= 0:
                return None
            left["n"] -= 1
        return outcome()

    return rule


def arrange(emulators: Any, provider: str) -> tuple[str, list[str], dict[str, str], str]:
    """(command, arguments, {target: what its status checks name}, the poll action).

    Each target's run lasts a few status checks, so that faults meet running runs."""
    if provider == "stepfunctions":
        from paradime_aws_stepfunctions.testing import wait_machine

        arns = {n: emulators.machines.arn(n, wait_machine(1)) for n in ("etl", "report")}
        args = [arg for arn in arns.values() for arg in ("--state-machine-arn", arn)]
        # DescribeExecution names the execution, whose ARN holds the machine's name.
        return SFN, args, {arn: f":{n}:" for n, arn in arns.items()}, "DescribeExecution"
    if provider == "sagemaker":
        for name in ("train", "score"):
            emulators.sagemaker.create_pipeline(name)
            emulators.sagemaker.script(name, "Executing", "Executing", "Succeeded")
        return (
            SAGEMAKER,
            ["--pipeline-name", "train,score"],
            {"train": "pipeline/train/", "score": "pipeline/score/"},
            "DescribePipelineExecution",
        )
    emulators.functions.create("fire-a", "fire-b")
    emulators.lambda_.behave("fire-a", async_outcome="success")
    return (
        LAMBDA,
        ["--function-name", "fire-a,fire-b", "--invocation-type", "Event"],
        {"fire-a": "/aws/lambda/fire-a", "fire-b": "/aws/lambda/fire-b"},
        "FilterLogEvents",
    )


def run_ids_at_the_emulator(emulators: Any, command: str, targets: list[str]) -> dict[str, list]:
    if command == SFN:
        return {t: [e["executionArn"] for e in emulators.machines.executions(t)] for t in targets}
    if command == SAGEMAKER:
        return {
            t: [e["PipelineExecutionArn"] for e in emulators.sagemaker.executions(t)]
            for t in targets
        }
    return {t: [i.request_id for i in emulators.lambda_.invoked(t)] for t in targets}


PROVIDERS = ["stepfunctions", "sagemaker", "lambda-event"]


@pytest.mark.parametrize("fault", list(FAULTS))
@pytest.mark.parametrize("provider", PROVIDERS)
def test_status_checks_survive_transient_server_errors_and_resets(
    provider, fault, emulators, aws_faults, ledger
):
    command, args, named, action = arrange(emulators, provider)
    for marker in named.values():
        # More failures than botocore's attempts of one call: core's poll retries are needed too.
        aws_faults.add_rule(about(marker, action, FAULTS[fault], times=DEFAULT_MAX_ATTEMPTS + 2))
    result = run_cli(["run", command, *args, "--json"])
    assert result.exit_code == 0, result.stdout + result.stderr
    assert set(result.statuses.values()) == {"SUCCEEDED"}
    ids = run_ids_at_the_emulator(emulators, command, list(named))
    assert {t: len(v) for t, v in ids.items()} == dict.fromkeys(named, 1)
    assert {r["target"]: r["run_id"] for r in result.json["results"]} == {
        t: v[0] for t, v in ids.items()
    }
    assert "status check failed" in result.stderr  # core's retry is reported
    ledger.record("2", proxy=aws_faults, targets=len(named), duplicates=0)


@pytest.mark.parametrize(
    ("provider", "fault"),
    [
        *((provider, "server-error") for provider in PROVIDERS),
        ("stepfunctions", "connection-reset"),
    ],
)
def test_status_checks_failing_in_a_row_end_that_run_in_error_with_its_run_id(
    provider, fault, emulators, aws_faults, monkeypatch, ledger
):
    # Core's backoff between failed checks (at least 0.5 s) scaled down like the poll schedule.
    monkeypatch.setattr(PollPolicy, "failure_backoff", lambda self, failures, rng: 0.05)
    command, args, named, action = arrange(emulators, provider)
    lost, fine = list(named)
    aws_faults.add_rule(about(named[lost], action, FAULTS[fault]))
    result = run_cli(["run", command, *args, "--json"])
    assert result.exit_code == 1
    rows = {row["target"]: row for row in result.json["results"]}
    assert rows[fine]["status"] == "SUCCEEDED"
    row = rows[lost]
    assert row["status"] == "ERROR"
    failures = PollPolicy().max_consecutive_failures
    assert row["error"].startswith(f"could not track the run: {failures} status checks in a row")
    cause = "ServiceException: Internal failure" if fault == "server-error" else "Connection"
    assert cause in row["error"]
    [run_id] = run_ids_at_the_emulator(emulators, command, [lost])[lost]
    assert row["run_id"] == run_id
    # Bounded: botocore's attempts of each of core's consecutive checks, and no more.
    checks = sum(
        1 for r in aws_faults.requests if action in r.action and named[lost].encode() in r.body
    )
    assert checks == failures * DEFAULT_MAX_ATTEMPTS
    ledger.record("2", proxy=aws_faults, targets=2, duplicates=0)


# -- a Lambda invoke that may have reached Lambda ----------------------------------------------
@pytest.fixture
def one_second_lambda(monkeypatch: pytest.MonkeyPatch) -> float:
    """Lambda's 15-minute limit (the invoke's read timeout) scaled down to 1 s, no margin."""
    monkeypatch.setattr("paradime_aws_lambda.runner.MAX_FUNCTION_TIMEOUT_S", 1)
    monkeypatch.setattr("paradime_aws_lambda.runner.READ_TIMEOUT_MARGIN_S", 0.0)
    return 1.0


ANSWER_LOST = {
    "server-error": lambda: Lost(server_error()),
    "connection-reset": lambda: Lost(RESET),
    "read-timeout": lambda: Lost(Delay(3.0, forward=False)),
}
EXPECTED_CAUSE = {
    "server-error": "ServiceException: Internal failure",
    "connection-reset": "Connection",
    "read-timeout": "Read timeout",
}


def wait_for_invocations(emulators: Any, count: int, limit_s: float = 10.0) -> None:
    deadline = time.monotonic() + limit_s
    while len(emulators.lambda_.invoked()) < count and time.monotonic() < deadline:
        time.sleep(0.05)


@pytest.mark.parametrize("fault", list(ANSWER_LOST))
def test_an_invoke_whose_answer_was_lost_is_never_sent_again(
    fault, emulators, aws_faults, one_second_lambda, ledger
):
    emulators.functions.create("charge-cards", "send-mail", Timeout=1)
    aws_faults.add_rule(when(ANSWER_LOST[fault](), action="/functions/charge-cards/invocations"))
    result = run_cli(["run", LAMBDA, "--function-name", "charge-cards,send-mail", "--json"])
    assert result.exit_code == 1
    rows = {row["target"]: row for row in result.json["results"]}
    assert rows["send-mail"]["status"] == "SUCCEEDED"
    row = rows["charge-cards"]
    assert row["status"] == "ERROR"
    assert EXPECTED_CAUSE[fault] in row["error"], row["error"]
    assert "may have reached Lambda" in row["error"]
    assert "not retried (a retry could run the function twice" in row["error"]
    if fault == "server-error":  # the only answer that carried a request id
        assert row["run_id"].startswith("fault-")
        assert f"(request id {row['run_id']})" in row["error"]
    wait_for_invocations(emulators, 2)
    assert len(emulators.lambda_.invoked("charge-cards")) == 1  # it ran, once
    assert aws_faults.count("/functions/charge-cards/invocations") == 1
    ledger.record("2", proxy=aws_faults, targets=2, duplicates=emulators.duplicate_invocations())


def test_a_throttled_invoke_is_the_one_invoke_error_that_is_retried(emulators, aws_faults, ledger):
    """The contrast: Lambda refused a throttled invoke, so retrying it cannot run it twice."""
    from paradime_aws_common.testing import throttle

    emulators.functions.create("busy")
    aws_faults.add_rule(when(throttle("lambda"), action="/invocations", times=TRIGGER_ATTEMPTS - 1))
    result = run_cli(["run", LAMBDA, "--function-name", "busy", "--json"])
    assert result.statuses == {"busy": "SUCCEEDED"}, result.stderr
    assert aws_faults.count("/invocations") == TRIGGER_ATTEMPTS
    assert len(emulators.lambda_.invoked("busy")) == 1
    ledger.record("2", proxy=aws_faults, targets=1, duplicates=emulators.duplicate_invocations())


# -- scenario 3: slow answers --------------------------------------------------------------
def test_answers_slower_than_the_read_timeout_never_cause_a_second_invocation(
    emulators, aws_faults, one_second_lambda, ledger
):
    """Lambda's limit scaled to 1 s: answers 1.6 s late (after the function ran) time out; an
    answer 0.1 s late is waited for. Each function runs exactly once either way."""
    slow = ["nightly-a", "nightly-b", "nightly-c"]
    emulators.functions.create(*slow, "quick", Timeout=1)

    # Delay forwards after waiting: the function does run, its answer comes late.
    for name in slow:
        aws_faults.add_rule(when(Delay(1.6), action=f"/functions/{name}/invocations"))
    aws_faults.add_rule(when(Delay(0.1), action="/functions/quick/invocations"))
    result = run_cli(["run", LAMBDA, "--function-name", ",".join([*slow, "quick"]), "--json"])
    assert result.exit_code == 1
    rows = {row["target"]: row for row in result.json["results"]}
    assert rows["quick"]["status"] == "SUCCEEDED"
    for name in slow:
        assert rows[name]["status"] == "ERROR"
        assert "Read timeout" in rows[name]["error"]
        assert "may have reached Lambda" in rows[name]["error"]
        assert aws_faults.count(f"/functions/{name}/invocations") == 1
    wait_for_invocations(emulators, 4)
    time.sleep(0.5)  # a second invocation, were there one, would land now
    assert {n: len(emulators.lambda_.invoked(n)) for n in [*slow, "quick"]} == dict.fromkeys(
        [*slow, "quick"], 1
    )
    ledger.record(
        "3",
        faults=len(slow) + 1,
        targets=len(rows),
        duplicates=emulators.duplicate_invocations(),
    )


def test_a_slow_status_check_is_simply_asked_again(emulators, aws_faults, monkeypatch, ledger):
    """Polls are safe to repeat: a status check whose answer is late past the read timeout is
    retried by botocore, and the run's outcome is still learned."""
    from paradime_aws_common import session
    from paradime_aws_stepfunctions.testing import wait_machine

    original = session.AwsSession.client

    def short_read_timeout(self: Any, service: str, region: Any = None, **kwargs: Any) -> Any:
        kwargs["read_timeout"] = min(kwargs.get("read_timeout", 1.0), 1.0)
        return original(self, service, region, **kwargs)

    monkeypatch.setattr(session.AwsSession, "client", short_read_timeout)
    arn = emulators.machines.arn("etl", wait_machine(1))
    aws_faults.add_rule(about(":etl:", "DescribeExecution", lambda: Delay(1.5), times=2))
    result = run_cli(["run", SFN, "--state-machine-arn", arn, "--json"])
    assert result.statuses == {arn: "SUCCEEDED"}, result.stderr
    assert len(emulators.machines.executions(arn)) == 1
    ledger.record("3", faults=2, targets=1, duplicates=emulators.duplicate_executions([arn]))


# -- connections that were never made ---------------------------------------------------------
@pytest.fixture
def closed_port() -> str:
    """A loopback URL nothing listens on: every connection is refused, no request is sent."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.mark.parametrize(
    ("command", "args"),
    [
        (LAMBDA, ["--function-name", "nightly"]),
        (SFN, ["--state-machine-arn", "arn:aws:states:us-east-1:123456789012:stateMachine:m"]),
        (SAGEMAKER, ["--pipeline-name", "train"]),
    ],
    ids=["lambda", "stepfunctions", "sagemaker"],
)
def test_a_refused_connection_is_retried_as_nothing_was_sent(
    command, args, closed_port, aws, ledger
):
    """No connection, no request: even a Lambda invoke is safe to retry, and the row does not
    claim the call may have reached AWS."""
    result = run_cli(["run", command, *args, "--endpoint-url", closed_port, "--json"])
    assert result.exit_code == 1
    [row] = result.json["results"]
    assert row["status"] == "ERROR"
    assert "Could not connect to the endpoint URL" in row["error"]
    assert "may have reached" not in row["error"]
    assert result.stderr.count("retrying in") == TRIGGER_ATTEMPTS - 1, result.stderr
    ledger.record("2", faults=TRIGGER_ATTEMPTS, targets=1, duplicates=0)


# -- botocore's network error classes on status checks ---------------------------------------------
@pytest.fixture
def plain_text_tls_endpoint() -> Any:
    """An https:// endpoint whose server answers in plain text, so that every TLS handshake
    fails (botocore's SSLError); it counts the connections it was offered."""
    import socket
    import threading

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    server.settimeout(0.1)
    offered = [0]
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            offered[0] += 1
            with conn:
                conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{server.getsockname()[1]}", offered
    stop.set()
    thread.join(timeout=5)
    server.close()


@pytest.mark.parametrize("fault", ["tls-handshake", "proxy-unreachable"])
def test_status_checks_meeting_any_network_error_class_are_retried(
    fault, emulators, aws_faults, plain_text_tls_endpoint, closed_port, monkeypatch, ledger
):
    """Lambda's log reads (its status checks) fail with botocore's SSLError, or its
    ProxyConnectionError: retried like any connection failure, until 6 fail in a row."""
    monkeypatch.setattr(PollPolicy, "failure_backoff", lambda self, failures, rng: 0.05)
    emulators.functions.create("nightly")
    tls_url, offered = plain_text_tls_endpoint
    if fault == "tls-handshake":
        env = {"AWS_ENDPOINT_URL_CLOUDWATCH_LOGS": tls_url}
        cause = "SSLError"
    else:  # the invoke goes straight to the emulator, the log reads through a proxy that is down
        logs_url = aws_faults.url.replace("127.0.0.1", "localhost")
        env = {
            "AWS_ENDPOINT_URL_CLOUDWATCH_LOGS": logs_url,
            "HTTP_PROXY": closed_port,
            "NO_PROXY": "127.0.0.1",
        }
        cause = "ProxyConnectionError"
    args = ["--function-name", "nightly", "--invocation-type", "Event", "--json"]
    result = run_cli(["run", LAMBDA, *args], env=env)
    assert result.exit_code == 1
    [row] = result.json["results"]
    assert row["status"] == "ERROR", row
    failures = PollPolicy().max_consecutive_failures
    assert row["error"].startswith(f"could not track the run: {failures} status checks in a row")
    assert cause in row["error"]
    assert row["run_id"] == emulators.lambda_.invoked("nightly")[0].request_id
    if fault == "tls-handshake":
        assert offered[0] == failures * DEFAULT_MAX_ATTEMPTS
    ledger.record("2", faults=failures * DEFAULT_MAX_ATTEMPTS, targets=1, duplicates=0)


def test_an_invoke_meeting_a_network_error_is_retried_only_when_nothing_was_sent(
    emulators, aws_faults, plain_text_tls_endpoint, closed_port, ledger
):
    """A proxy that cannot be reached means nothing was sent: the invoke is retried. A TLS
    failure may come after the request was written: sent once, and said to be ambiguous."""
    emulators.functions.create("nightly")
    args = ["run", LAMBDA, "--function-name", "nightly", "--json"]
    through_proxy = {
        "AWS_ENDPOINT_URL_LAMBDA": aws_faults.url.replace("127.0.0.1", "localhost"),
        "HTTP_PROXY": closed_port,
        "NO_PROXY": "127.0.0.1",
    }
    unreachable = run_cli(args, env=through_proxy)
    [row] = unreachable.json["results"]
    assert row["status"] == "ERROR"
    assert "ProxyConnectionError" in row["error"] and "may have reached" not in row["error"]
    assert unreachable.stderr.count("retrying in") == TRIGGER_ATTEMPTS - 1, unreachable.stderr

    tls_url, offered = plain_text_tls_endpoint
    broken = run_cli(args, env={"AWS_ENDPOINT_URL_LAMBDA": tls_url})
    [row] = broken.json["results"]
    assert row["status"] == "ERROR"
    assert "SSLError" in row["error"] and "may have reached Lambda" in row["error"]
    assert offered[0] == 1
    assert emulators.lambda_.invoked() == []
    ledger.record("2", faults=TRIGGER_ATTEMPTS + 1, targets=2, duplicates=0)
