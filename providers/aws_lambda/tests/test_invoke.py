"""aws-lambda-invoke with RequestResponse and DryRun invocations, end to end over HTTP."""

from __future__ import annotations

import base64
import io
import json
import socket
from typing import Any

import pytest

from paradime.testing import CliResult, run_cli

# The configuration reads: GetFunction (GET .../functions/NAME), GetFunctionConfiguration.
CONFIGURATION_READ = "GET /2015-03-31/functions/"


def invoke(*args: str) -> CliResult:
    return run_cli(["run", "aws-lambda-invoke", *args])


def test_the_functions_answer_is_the_output_and_its_request_id_the_run_id(
    functions, lambda_emulator
):
    functions.create("hello")
    payload = '{"name": "Ada",  "n": 1.50}'
    result = invoke("--function-name", "hello", "--payload", payload, "--json")
    assert result.exit_code == 0, result.stderr
    row = result.json["results"][0]
    assert row["status"] == "SUCCEEDED"
    assert row["output"] == {"name": "Ada", "n": 1.5}
    (seen,) = lambda_emulator.invoked("hello")
    assert seen.payload == payload.encode()  # sent byte for byte, not re-serialised
    assert seen.invocation_type == "RequestResponse"
    assert row["run_id"] == seen.request_id
    assert row["executed_version"] == "$LATEST"
    assert row["console_url"].endswith("#/functions/hello")


def test_the_table_shows_the_answer_truncated(functions, lambda_emulator):
    functions.create("big")
    lambda_emulator.behave("big", result=json.dumps({"rows": list(range(500))}).encode())
    result = invoke("--function-name", "big")
    assert result.exit_code == 0
    line = next(line for line in result.stdout.splitlines() if line.startswith("big"))
    assert "output: {" in line and line.endswith("…")
    assert len(line) < 250


def test_an_answer_that_is_not_json_is_kept_as_text(functions, lambda_emulator):
    functions.create("texty")
    lambda_emulator.behave("texty", result=b"plain words")
    result = invoke("--function-name", "texty", "--json")
    assert result.json["results"][0]["output"] == "plain words"


@pytest.mark.parametrize("kind", ["Handled", "Unhandled"])
def test_a_function_error_is_failed_with_its_error_type_and_message(
    functions, lambda_emulator, kind
):
    functions.create("broken", "fine")
    lambda_emulator.behave(
        "broken", function_error=kind, error_type="KeyError", error_message="'customer_id'"
    )
    result = invoke("--function-name", "broken,fine", "--json")
    assert result.exit_code == 1
    assert result.statuses == {"broken": "FAILED", "fine": "SUCCEEDED"}
    row = result.json["results"][0]
    assert row["error"] == f"KeyError: 'customer_id' (function error: {kind})"
    assert row["function_error"] == kind
    assert row["output"]["errorType"] == "KeyError"  # the error document is in the result
    assert row["run_id"] == lambda_emulator.invoked("broken")[0].request_id
    assert "KeyError: 'customer_id'" in result.stderr


def test_log_tail_is_printed_for_each_target_and_kept_in_the_json(functions, lambda_emulator):
    functions.create("first", "second")
    lambda_emulator.behave("first", lines=["loaded 42 rows"])
    result = invoke("--function-name", "first,second", "--log-type", "tail", "--json")
    assert result.exit_code == 0, result.stderr
    for row in result.json["results"]:
        seen = lambda_emulator.invoked(row["target"])[0]
        assert seen.log_type == "Tail"
        assert f"START RequestId: {seen.request_id}" in row["log_tail"]
        assert f"REPORT RequestId: {seen.request_id}" in row["log_tail"]
        assert f"[{row['target']}] function log (last 4 KB):" in result.stderr
        assert f"    END RequestId: {seen.request_id}" in result.stderr
    assert "loaded 42 rows" in result.json["results"][0]["log_tail"]


def test_without_log_type_no_log_is_requested_or_printed(functions, lambda_emulator):
    functions.create("quiet")
    result = invoke("--function-name", "quiet", "--json")
    assert lambda_emulator.invoked("quiet")[0].log_type is None
    assert "log_tail" not in result.json["results"][0]
    assert "function log" not in result.stderr


def test_qualifier_applies_to_targets_that_name_none(aws, functions, lambda_emulator):
    functions.create("versioned")
    client = aws.client("lambda")
    client.publish_version(FunctionName="versioned")
    client.create_alias(FunctionName="versioned", Name="live", FunctionVersion="1")
    result = invoke("--function-name", "versioned", "--qualifier", "live", "--json")
    assert result.exit_code == 0, result.stdout
    assert lambda_emulator.invoked("versioned")[-1].qualifier == "live"
    assert result.json["results"][0]["console_url"].endswith("/functions/versioned/aliases/live")
    # A target's own qualifier wins.
    result = invoke("--function-name", "versioned:1", "--qualifier", "live", "--json")
    assert result.exit_code == 0, result.stdout
    assert lambda_emulator.invoked("versioned")[-1].qualifier == "1"
    assert result.json["results"][0]["console_url"].endswith("/functions/versioned/versions/1")


def test_a_missing_alias_is_an_error_naming_it(functions, lambda_emulator):
    functions.create("versioned")
    result = invoke("--function-name", "versioned:nope", "--json")
    assert result.exit_code == 1
    assert result.statuses == {"versioned:nope": "ERROR"}
    assert "ResourceNotFoundException" in result.json["results"][0]["error"]
    assert lambda_emulator.invoked() == []


def test_client_context_reaches_the_function_base64_encoded(functions, lambda_emulator):
    functions.create("ctx")
    context = '{"custom": {"tenant": "acme"}, "env": {"stage": "prod"}}'
    result = invoke("--function-name", "ctx", "--client-context", context)
    assert result.exit_code == 0, result.stderr
    sent = lambda_emulator.invoked("ctx")[0].client_context
    assert json.loads(base64.b64decode(sent)) == json.loads(context)


def test_a_full_arn_is_invoked_in_its_own_region(functions, lambda_emulator):
    (arn,) = functions.create("far-away", region="eu-west-1")
    assert ":eu-west-1:" in arn
    result = invoke("--function-name", f"{arn}:$LATEST", "--json")
    assert result.exit_code == 0, result.stdout
    row = result.json["results"][0]
    assert row["target"] == f"{arn}:$LATEST"
    assert "region=eu-west-1" in row["console_url"]
    assert lambda_emulator.invoked("far-away")[0].qualifier == "$LATEST"
    # The same name in the command's region does not exist.
    result = invoke("--function-name", "far-away", "--json")
    assert result.statuses == {"far-away": "ERROR"}


def test_a_partial_arn_is_invoked(functions, lambda_emulator):
    functions.create("partial")
    result = invoke("--function-name", "123456789012:function:partial", "--json")
    assert result.exit_code == 0, result.stdout
    assert len(lambda_emulator.invoked("partial")) == 1


def test_payload_file_is_sent_as_written(functions, lambda_emulator, tmp_path):
    functions.create("filed")
    path = tmp_path / "event.json"
    path.write_bytes(b'{\n  "day": "2024-05-01"\n}\n')
    result = invoke("--function-name", "filed", "--payload-file", str(path), "--json")
    assert result.exit_code == 0, result.stderr
    assert lambda_emulator.invoked("filed")[0].payload == path.read_bytes()
    assert result.json["results"][0]["output"] == {"day": "2024-05-01"}


def test_payload_file_dash_reads_standard_input(functions, lambda_emulator, monkeypatch):
    functions.create("piped")
    stdin = io.TextIOWrapper(io.BytesIO(b'{"from": "stdin"}'), encoding="utf-8")
    monkeypatch.setattr("sys.stdin", stdin)
    result = invoke("--function-name", "piped", "--payload-file", "-", "--json")
    assert result.exit_code == 0, result.stderr
    assert lambda_emulator.invoked("piped")[0].payload == b'{"from": "stdin"}'


def test_dry_run_succeeds_without_running_the_function(functions, lambda_emulator):
    functions.create("checked")
    result = invoke("--function-name", "checked", "--invocation-type", "dryrun", "--json")
    assert result.exit_code == 0, result.stdout
    row = result.json["results"][0]
    assert row["status"] == "SUCCEEDED"
    (seen,) = lambda_emulator.invoked("checked")
    assert seen.invocation_type == "DryRun"
    assert row["run_id"] == seen.request_id
    assert row["output"] is None
    assert row["invocation_type"] == "DryRun"


def test_a_missing_function_is_an_error_and_the_other_targets_still_run(functions, lambda_emulator):
    functions.create("present")
    result = invoke("--function-name", "absent", "--function-name", "present", "--json")
    assert result.exit_code == 1
    assert result.statuses == {"absent": "ERROR", "present": "SUCCEEDED"}
    error = result.json["results"][0]["error"]
    assert error.startswith("function 'absent': ResourceNotFoundException: Function not found:")
    assert error.endswith(":function:absent")
    assert [i.function for i in lambda_emulator.invoked()] == ["present"]
    assert "Traceback" not in result.stdout + result.stderr


def test_old_command_and_option_names_still_work(functions, lambda_emulator):
    functions.create("a", "b", "c")
    result = run_cli(
        ["run", "aws-lambda-trigger", "--function-names", "a,b", "--function-name", "c", "--json"]
    )
    assert result.exit_code == 0, result.stderr
    assert sorted(r["target"] for r in result.json["results"]) == ["a", "b", "c"]
    assert result.json["command"] == "aws-lambda-invoke"
    assert sorted(i.function for i in lambda_emulator.invoked()) == ["a", "b", "c"]


def test_duplicate_targets_are_invoked_once(functions, lambda_emulator):
    functions.create("once")
    result = invoke("--function-name", "once,once", "--function-name", "once", "--json")
    assert result.exit_code == 0
    assert len(result.json["results"]) == 1
    assert len(lambda_emulator.invoked("once")) == 1
    assert "duplicate target 'once'" in result.stderr


def test_request_response_without_waiting_says_it_waits_for_the_answer(functions, lambda_emulator):
    functions.create("sync")
    result = invoke("--function-name", "sync", "--no-wait-for-completion", "--json")
    assert result.exit_code == 0
    assert result.statuses == {"sync": "SUCCEEDED"}
    assert "use --invocation-type Event not to wait" in result.stderr


def test_secrets_never_appear_in_the_output(aws, functions, lambda_emulator):
    functions.create("hello")
    secret = aws.env["AWS_SECRET_ACCESS_KEY"]
    result = invoke("--function-name", "hello,missing", "--log-level", "debug", "--json")
    assert result.exit_code == 1
    assert secret not in result.stdout + result.stderr


def test_region_and_keys_given_as_options(aws, functions, lambda_emulator, monkeypatch):
    functions.create("regional", region="eu-west-1")
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(key)
    secret = "option-secret-0123456789abcdefghij"
    result = invoke(
        "--function-name",
        "regional",
        "--aws-region",
        "eu-west-1",
        "--aws-access-key-id",
        "AKIAOPTIONKEY0000000",
        "--aws-secret-access-key",
        secret,
        "--log-level",
        "debug",
        "--json",
    )
    assert result.exit_code == 0, result.stdout
    assert "region=eu-west-1" in result.json["results"][0]["console_url"]
    assert len(lambda_emulator.invoked("regional")) == 1
    assert secret not in result.stdout + result.stderr


def test_cancel_on_exit_cannot_stop_an_invocation_and_says_so(
    functions, lambda_emulator, fast_polling
):
    functions.create("endless")
    lambda_emulator.behave("endless", async_outcome="running")
    result = invoke(
        "--function-name",
        "endless",
        "--invocation-type",
        "Event",
        "--timeout-minutes",
        "0.01",
        "--cancel-on-exit",
        "--json",
    )
    assert result.exit_code == 1
    row = result.json["results"][0]
    assert row["status"] == "TIMED_OUT"
    assert "aws-lambda-invoke cannot stop its runs" in row["error"]
    assert "stopping the remote run" not in result.stderr


# -- long synchronous invokes --------------------------------------------------------------------
@pytest.mark.skipif(not hasattr(socket, "TCP_KEEPIDLE"), reason="TCP_KEEPIDLE is Linux's")
def test_the_invoke_connection_sends_keep_alive_probes_well_before_350_s(
    aws_faults, functions, lambda_emulator, monkeypatch
):
    """NAT gateways drop a connection idle for 350 s, and a synchronous invoke is silent for as
    long as the function runs: the connection must probe long before that. The options are read
    back from the client's socket while Lambda has the request."""
    opened: list[socket.socket] = []
    connect = socket.socket.connect

    def recording_connect(sock: socket.socket, address: Any) -> None:
        connect(sock, address)
        opened.append(sock)

    monkeypatch.setattr(socket.socket, "connect", recording_connect)
    port = int(aws_faults.url.rsplit(":", 1)[1])
    seen: list[tuple[int, int, int, int]] = []

    def read_options(request: Any) -> None:
        for sock in opened:
            try:
                if sock.getpeername()[1] != port:
                    continue
                seen.append(
                    (
                        sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE),
                        sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE),
                        sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL),
                        sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT),
                    )
                )
            except OSError:  # a socket closed since
                continue

    aws_faults.add_rule(read_options)
    functions.create("long")
    result = run_cli(["run", "aws-lambda-invoke", "--function-name", "long", "--json"])
    assert result.exit_code == 0, result.stdout
    assert aws_faults.count("/invocations") == 1
    assert seen, "no client socket to the endpoint was open while the invoke was answered"
    for keepalive, idle, interval, probes in seen:
        assert keepalive == 1
        assert idle + interval * probes < 350, (idle, interval, probes)


def test_a_function_that_may_outlast_the_wait_is_warned_about(
    aws_faults, functions, lambda_emulator
):
    functions.create("nightly", Timeout=600)
    functions.create("quick", Timeout=30)
    args = ["--function-name", "nightly,quick", "--timeout-minutes", "5", "--json"]
    result = run_cli(["run", "aws-lambda-invoke", *args])
    assert result.exit_code == 0, result.stdout
    warnings = [line for line in result.stderr.splitlines() if "longer than" in line]
    assert len(warnings) == 1, result.stderr
    assert "[nightly]" in warnings[0]
    assert "timeout (600 s) is longer than --timeout-minutes (5 min)" in warnings[0]
    # The cost of the warning: one configuration read per function, only for such a short wait.
    assert aws_faults.count(CONFIGURATION_READ) == 2


def test_no_configuration_is_read_when_no_function_can_outlast_the_wait(
    aws_faults, functions, lambda_emulator
):
    functions.create("nightly", Timeout=900)
    result = run_cli(["run", "aws-lambda-invoke", "--function-name", "nightly", "--json"])
    assert result.exit_code == 0, result.stdout
    assert "longer than" not in result.stderr
    assert aws_faults.count(CONFIGURATION_READ) == 0  # 15 minutes: Lambda's own limit
    assert aws_faults.count("/invocations") == 1


def test_an_event_invocation_followed_is_warned_about_without_another_call(
    aws_faults, functions, lambda_emulator, fast_polling
):
    functions.create("nightly", Timeout=600)
    args = ["--function-name", "nightly", "--invocation-type", "Event", "--timeout-minutes", "2"]
    result = run_cli(["run", "aws-lambda-invoke", *args, "--json"])
    assert result.exit_code == 0, result.stdout
    assert "timeout (600 s) is longer than --timeout-minutes (2 min)" in result.stderr
    assert aws_faults.count(CONFIGURATION_READ) == 1  # read anyway, for the log group


def test_nan_and_infinity_in_a_functions_answer_are_strings_in_the_json_output(
    functions, lambda_emulator
):
    """Python's json.dumps writes NaN and Infinity, and Lambda passes them on; the --json
    document stays standard JSON (before: it held the bare tokens NaN and -Infinity)."""
    functions.create("train")
    lambda_emulator.behave("train", result=b'{"loss": NaN, "bounds": [-Infinity, 1.5]}')
    result = invoke("--function-name", "train", "--json")
    assert result.exit_code == 0, result.stderr

    def refuse(token: str) -> None:
        raise AssertionError(f"{token} in the --json output")

    document = json.loads(result.stdout, parse_constant=refuse)
    assert document["results"][0]["output"] == {"loss": "NaN", "bounds": ["-Infinity", 1.5]}


def test_an_answer_nested_too_deeply_to_parse_is_reported_as_text(functions, lambda_emulator):
    """The function ran and succeeded: its answer is shown as text, not an ERROR row."""
    functions.create("deep")
    answer = b"[" * 100_000 + b"]" * 100_000
    lambda_emulator.behave("deep", result=answer)
    result = invoke("--function-name", "deep", "--json")
    assert result.exit_code == 0, result.stderr
    [row] = result.json["results"]
    assert row["status"] == "SUCCEEDED"
    assert row["output"] == answer.decode()
