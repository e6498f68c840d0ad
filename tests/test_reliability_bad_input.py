"""Scenario 6, bad input: exit 2, one line naming the problem, and not one request sent.

Every case runs the real CLI in-process with its endpoint pointed at the fault proxy, which
counts what reaches it: a usage error must be found before any AWS call, credentials and region
included. Standard input is never read when another usage error exists: in-process, pytest's
stdin raises if read, so those cases would fail; through the console script, a pipe left open
shows the command does not wait on it. Arguments holding bytes that are not UTF-8 are passed as
bytes to the console script.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from paradime.testing import run_cli

LAMBDA = ["run", "aws-lambda-invoke"]
LAMBDA_LIST = ["run", "aws-lambda-list-functions"]
SFN = ["run", "aws-stepfunctions-start-execution"]
SFN_LIST = ["run", "aws-stepfunctions-list-state-machines"]
SAGEMAKER = ["run", "aws-sagemaker-start-pipeline"]
SAGEMAKER_LIST = ["run", "aws-sagemaker-list-pipelines"]
MACHINE = "arn:aws:states:us-east-1:123456789012:stateMachine:nightly"
MOON = ["--aws-region", "us-moon-1"]
NO_KEYS = {"AWS_ACCESS_KEY_ID": None, "AWS_SECRET_ACCESS_KEY": None}
DEEP = "[" * 100_000
HUGE = "9" * 5_000  # an integer beyond Python's 4,300 digits
TOKEN = "FwoGZXIvYXdzEJr//////////wEaDExampleToken"


@dataclass
class Bad:
    """One bad command line: what the single error line must say."""

    args: list[str]
    says: list[str]
    env: dict[str, str | None] = field(default_factory=dict)
    hides: list[str] = field(default_factory=list)  # never in any output


def files(tmp: Path) -> dict[str, str]:
    """Input files the cases name: oversized, not JSON, a folder, a missing path."""
    (tmp / "not-json.json").write_text("{'day': 1}")
    (tmp / "six-mb.json").write_text('"' + "x" * (6 * 1024 * 1024) + '"')
    (tmp / "one-mb.json").write_text('"' + "x" * (1024 * 1024) + '"')
    (tmp / "256-kib.json").write_text('"' + "x" * (256 * 1024) + '"')
    (tmp / "folder").mkdir()
    (tmp / "deep.json").write_text(DEEP)
    (tmp / "nan.json").write_text('{"learning_rate": NaN}')
    (tmp / "huge.json").write_text(f'{{"epochs": {HUGE}}}')
    return {
        "deep": str(tmp / "deep.json"),
        "nan": str(tmp / "nan.json"),
        "huge": str(tmp / "huge.json"),
        "not_json": str(tmp / "not-json.json"),
        "six_mb": str(tmp / "six-mb.json"),
        "one_mb": str(tmp / "one-mb.json"),
        "big_input": str(tmp / "256-kib.json"),
        "folder": str(tmp / "folder"),
        "missing": str(tmp / "missing.json"),
    }


def cases(f: dict[str, str]) -> dict[str, Bad]:
    fn = ["--function-name", "report"]
    sm = ["--state-machine-arn", MACHINE]
    pl = ["--pipeline-name", "train"]
    return {
        # -- aws-lambda-invoke
        "lambda: invalid function name": Bad(
            [*LAMBDA, "--function-name", "daily report"], ["'daily report'", "function name"]
        ),
        "lambda: ARN of another service": Bad(
            [*LAMBDA, "--function-name", MACHINE], ["ARN of service 'states', not 'lambda'"]
        ),
        "lambda: malformed ARN": Bad(
            [*LAMBDA, "--function-name", "arn:aws:lambda:us-east-1"], ["is not an ARN"]
        ),
        "lambda: ARN in an unknown region": Bad(
            [*LAMBDA, "--function-name", "arn:aws:lambda:us-moon-1:123456789012:function:f"],
            ["unknown AWS region 'us-moon-1'"],
        ),
        "lambda: partial ARN with a bad account": Bad(
            [*LAMBDA, "--function-name", "1234:function:report"], ["invalid account id"]
        ),
        "lambda: empty function name": Bad([*LAMBDA, "--function-name", ""], ["empty"]),
        "lambda: empty name in a list": Bad(
            [*LAMBDA, "--function-name", "report,,export"], ["empty target name"]
        ),
        "lambda: a duplicate name beside an unknown region": Bad(
            [*LAMBDA, "--function-name", "report,report", *MOON],
            ["unknown AWS region 'us-moon-1'"],
        ),
        "lambda: an option Event ignores beside an unknown region": Bad(
            [*LAMBDA, *fn, "--invocation-type", "Event", "--log-type", "Tail", *MOON],
            ["unknown AWS region 'us-moon-1'"],
        ),
        "lambda: no function at all": Bad(
            [*LAMBDA, "--payload", "{}"], ["missing option '--function-name'"]
        ),
        "lambda: payload not JSON": Bad(
            [*LAMBDA, *fn, "--payload", '{"day": '], ["payload", "not valid JSON"]
        ),
        "lambda: payload file not JSON": Bad(
            [*LAMBDA, *fn, "--payload-file", f["not_json"]], ["not-json.json", "not valid JSON"]
        ),
        "lambda: payload over 6 MB": Bad(
            [*LAMBDA, *fn, "--payload-file", f["six_mb"]], ["at most 6,291,456 bytes"]
        ),
        "lambda: Event payload over 1 MB": Bad(
            [*LAMBDA, *fn, "--invocation-type", "Event", "--payload-file", f["one_mb"]],
            ["at most 1,048,576 bytes", "Event"],
        ),
        "lambda: payload file missing": Bad(
            [*LAMBDA, *fn, "--payload-file", f["missing"]], ["cannot read", "missing.json"]
        ),
        "lambda: payload file is a folder": Bad(
            [*LAMBDA, *fn, "--payload-file", f["folder"]], ["cannot read", "folder"]
        ),
        "lambda: payload and payload file": Bad(
            [*LAMBDA, *fn, "--payload", "{}", "--payload-file", f["not_json"]],
            ["--payload", "--payload-file"],
        ),
        "lambda: unknown invocation type": Bad(
            [*LAMBDA, *fn, "--invocation-type", "Sync"], ["--invocation-type", "'Sync'"]
        ),
        "lambda: invalid qualifier": Bad(
            [*LAMBDA, *fn, "--qualifier", "live now"], ["'live now'", "qualifier"]
        ),
        "lambda: payload nested 100,000 deep": Bad(
            [*LAMBDA, *fn, "--payload", DEEP], ["--payload", "nested too deeply"]
        ),
        "lambda: payload with a 5,000-digit integer": Bad(
            [*LAMBDA, *fn, "--payload", HUGE], ["--payload", "more than 4,300 digits"]
        ),
        "lambda: payload with NaN": Bad(
            [*LAMBDA, *fn, "--payload", '{"x": NaN}'], ["--payload", "NaN is not a JSON value"]
        ),
        "lambda: payload with -Infinity": Bad(
            [*LAMBDA, *fn, "--payload", "[-Infinity]"], ["-Infinity is not a JSON value"]
        ),
        "lambda: payload with bytes that are not UTF-8": Bad(
            [*LAMBDA, *fn, "--payload", '"caf\udce9"'], ["--payload", "not UTF-8 text"]
        ),
        "lambda: payload file nested 100,000 deep": Bad(
            [*LAMBDA, *fn, "--payload-file", f["deep"]], ["deep.json", "nested too deeply"]
        ),
        "lambda: payload file /dev/zero": Bad(
            [*LAMBDA, *fn, "--payload-file", "/dev/zero"],
            ["'/dev/zero' is more than 6,291,456 bytes"],
        ),
        "lambda: payload from standard input beside an invalid function name": Bad(
            [*LAMBDA, "--function-name", "daily report", "--payload-file", "-"],
            ["'daily report'", "function name"],
        ),
        "lambda: payload from standard input beside an unknown region": Bad(
            [*LAMBDA, *fn, "--payload-file", "-", *MOON], ["unknown AWS region 'us-moon-1'"]
        ),
        "lambda: client context nested 100,000 deep": Bad(
            [*LAMBDA, *fn, "--client-context", DEEP], ["--client-context", "nested too deeply"]
        ),
        "lambda: client context with a 5,000-digit integer": Bad(
            [*LAMBDA, *fn, "--client-context", f'{{"n": {HUGE}}}'], ["more than 4,300 digits"]
        ),
        "lambda: client context with Infinity": Bad(
            [*LAMBDA, *fn, "--client-context", '{"n": Infinity}'], ["Infinity is not a JSON"]
        ),
        "lambda: function name with a lone surrogate": Bad(
            [*LAMBDA, "--function-name", "report\ud800"], ["--function-name", "not UTF-8"]
        ),
        "lambda: a token after a forgotten option name": Bad(
            [*LAMBDA, *fn, TOKEN], ["1 unexpected extra argument, not shown"], hides=[TOKEN[:12]]
        ),
        "lambda: client context not an object": Bad(
            [*LAMBDA, *fn, "--client-context", "[1]"], ["--client-context", "JSON object"]
        ),
        "lambda: negative timeout": Bad(
            [*LAMBDA, *fn, "--timeout-minutes", "-1"], ["--timeout-minutes", "-1"]
        ),
        "lambda: zero concurrency": Bad(
            [*LAMBDA, *fn, "--max-concurrency", "0"], ["--max-concurrency", "0"]
        ),
        "lambda: concurrency above the maximum": Bad(
            [*LAMBDA, *fn, "--max-concurrency", "1000000"], ["--max-concurrency", "1 to 1000"]
        ),
        "lambda: unknown region": Bad(
            [*LAMBDA, *fn, "--aws-region", "us-moon-1"], ["unknown AWS region 'us-moon-1'"]
        ),
        "lambda: key id without its secret": Bad(
            [*LAMBDA, *fn, "--aws-access-key-id", "AKIAEXAMPLE"],
            ["--aws-secret-access-key is needed"],
            env=NO_KEYS,
        ),
        "lambda: function ARN of partition aws-cn in a US region": Bad(
            [*LAMBDA, "--function-name", "arn:aws-cn:lambda:us-east-1:123456789012:function:f"],
            ["partition 'aws-cn'", "is in partition 'aws'"],
        ),
        "lambda: unknown profile": Bad(
            [*LAMBDA, *fn, "--aws-profile", "nightly-ops"], ["nightly-ops", "not be found"]
        ),
        # -- aws-lambda-list-functions
        "lambda list: unknown region": Bad(
            [*LAMBDA_LIST, "--aws-region", "eu-nowhere-9"], ["unknown AWS region"]
        ),
        "lambda list: endpoint not a URL": Bad(
            [*LAMBDA_LIST, "--endpoint-url", "localhost:4566"], ["--endpoint-url", "not an http"]
        ),
        "lambda list: endpoint port out of range": Bad(
            [*LAMBDA_LIST, "--endpoint-url", "http://127.0.0.1:99999"],
            ["--endpoint-url", "invalid port"],
        ),
        "lambda list: unknown option": Bad([*LAMBDA_LIST, "--max-items", "5"], ["--max-items"]),
        # -- aws-stepfunctions-start-execution
        "sfn: ARN of another service": Bad(
            [*SFN, "--state-machine-arn", "arn:aws:lambda:us-east-1:123456789012:function:f"],
            ["ARN of service 'lambda', not 'states'"],
        ),
        "sfn: execution ARN for a state machine": Bad(
            [*SFN, "--state-machine-arn", MACHINE.replace("stateMachine", "execution") + ":x"],
            ["'execution' ARN", "'stateMachine'"],
        ),
        "sfn: ARN of partition aws in a China region": Bad(
            [*SFN, "--state-machine-arn", MACHINE.replace("us-east-1", "cn-north-1")],
            ["partition 'aws'", "'cn-north-1' is in partition 'aws-cn'"],
        ),
        "sfn: ARN of partition aws-us-gov in a commercial region": Bad(
            [*SFN, "--state-machine-arn", MACHINE.replace("arn:aws:", "arn:aws-us-gov:")],
            ["partition 'aws-us-gov'", "'us-east-1' is in partition 'aws'"],
        ),
        "sfn: ARN of an unknown region": Bad(
            [*SFN, "--state-machine-arn", MACHINE.replace("us-east-1", "xx-moon-1")],
            ["region"],
        ),
        "sfn: invalid state machine name": Bad(
            [*SFN, "--state-machine-arn", "nightly etl"], ["'nightly etl'", "white space"]
        ),
        "sfn: input not JSON": Bad([*SFN, *sm, "--input", "{'a': 1}"], ["not valid JSON"]),
        "sfn: input file not JSON": Bad(
            [*SFN, *sm, "--input-file", f["not_json"]], ["not-json.json", "not valid JSON"]
        ),
        "sfn: input nested 100,000 deep": Bad(
            [*SFN, *sm, "--input", DEEP], ["--input", "nested too deeply"]
        ),
        "sfn: input with a 5,000-digit integer": Bad(
            [*SFN, *sm, "--input", f'{{"n": {HUGE}}}'], ["more than 4,300 digits"]
        ),
        "sfn: input with NaN": Bad([*SFN, *sm, "--input", "[NaN]"], ["NaN is not a JSON value"]),
        "sfn: input file nested 100,000 deep": Bad(
            [*SFN, *sm, "--input-file", f["deep"]], ["deep.json", "nested too deeply"]
        ),
        "sfn: input file /dev/zero": Bad(
            [*SFN, *sm, "--input-file", "/dev/zero"], ["'/dev/zero' is more than 262,144 bytes"]
        ),
        "sfn: input from standard input beside an invalid state machine name": Bad(
            [*SFN, "--state-machine-arn", "nightly etl", "--input-file", "-"], ["'nightly etl'"]
        ),
        "sfn: input from standard input beside an unknown region": Bad(
            [*SFN, *sm, "--input-file", "-", "--aws-region", "us-moon-1"], ["unknown AWS region"]
        ),
        "sfn: execution name with bytes that are not UTF-8": Bad(
            [*SFN, *sm, "--execution-name", "nightly-\udcff"], ["--execution-name", "not UTF-8"]
        ),
        "sfn: endpoint port out of range": Bad(
            [*SFN, *sm, "--endpoint-url", "http://localhost:70000"], ["invalid port"]
        ),
        "sfn: input over 256 KiB": Bad(
            [*SFN, *sm, "--input-file", f["big_input"]], ["at most 262,144 bytes"]
        ),
        "sfn: input and input file": Bad(
            [*SFN, *sm, "--input", "{}", "--input-file", f["not_json"]], ["--input", "not both"]
        ),
        "sfn: input under its old and new name": Bad(
            [*SFN, *sm, "--input", "{}", "--input-data", "{}"], ["same option", "give it once"]
        ),
        "sfn: invalid execution name": Bad(
            [*SFN, *sm, "--execution-name", "run#5"], ["execution name", "'#'"]
        ),
        "sfn: execution name with U+FFFE": Bad(
            [*SFN, *sm, "--execution-name", "run-\ufffe"], ["execution name", "U+FFFE"]
        ),
        "sfn: execution name with U+FFFF": Bad(
            [*SFN, *sm, "--execution-name", "run-\uffff"], ["execution name", "U+FFFF"]
        ),
        "sfn: execution name with U+10FFFF": Bad(
            [*SFN, *sm, "--execution-name", "run-\U0010ffff"], ["execution name", "U+10FFFF"]
        ),
        "sfn: execution name with a lone surrogate": Bad(
            [*SFN, *sm, "--execution-name", "run-\ud800"], ["--execution-name", "U+D800"]
        ),
        "sfn: state machine name with U+FFFF": Bad(
            [*SFN, "--state-machine-arn", "nightly\uffff"], ["state machine name", "U+FFFF"]
        ),
        "sfn: execution name too long": Bad(
            [*SFN, *sm, "--execution-name", "n" * 81], ["81 characters", "at most 80"]
        ),
        "sfn: non-numeric timeout": Bad(
            [*SFN, *sm, "--timeout-minutes", "soon"], ["--timeout-minutes", "'soon'"]
        ),
        "sfn: NaN timeout": Bad([*SFN, *sm, "--timeout-minutes", "nan"], ["--timeout-minutes"]),
        "sfn: token without keys": Bad(
            [*SFN, *sm, "--aws-session-token", "FwoGZXIvYXdzEBY"],
            ["--aws-session-token needs"],
            env=NO_KEYS,
        ),
        # -- aws-stepfunctions-list-state-machines
        "sfn list: unknown region": Bad([*SFN_LIST, "--aws-region", "mars-1"], ["unknown AWS"]),
        "sfn list: empty region": Bad([*SFN_LIST, "--aws-region", " "], ["--aws-region", "empty"]),
        # -- aws-sagemaker-start-pipeline
        "sagemaker: pipeline ARN of partition aws in a GovCloud region": Bad(
            [
                *SAGEMAKER,
                "--pipeline-name",
                "arn:aws:sagemaker:us-gov-west-1:123456789012:pipeline/train",
            ],
            ["partition 'aws'", "'us-gov-west-1' is in partition 'aws-us-gov'"],
        ),
        "sagemaker: parameter without '='": Bad(
            [*SAGEMAKER, *pl, "--parameter", "Epochs"], ["'Epochs' is not NAME=VALUE"]
        ),
        "sagemaker: parameter without a name": Bad(
            [*SAGEMAKER, *pl, "--parameter", "=5"], ["empty parameter name"]
        ),
        "sagemaker: invalid display name": Bad(
            [*SAGEMAKER, *pl, "--display-name", "nightly_run"], ["'nightly_run'", "display name"]
        ),
        "sagemaker: ARN of another service": Bad(
            [*SAGEMAKER, "--pipeline-name", MACHINE], ["ARN of service 'states', not 'sagemaker'"]
        ),
        "sagemaker: execution ARN for a pipeline": Bad(
            [
                *SAGEMAKER,
                "--pipeline-name",
                "arn:aws:sagemaker:us-east-1:123456789012:pipeline/train/execution/abc123",
            ],
            ["pipeline execution ARN"],
        ),
        "sagemaker: ARN in an unknown region": Bad(
            [
                *SAGEMAKER,
                "--pipeline-name",
                "arn:aws:sagemaker:eu-wset-1:123456789012:pipeline/train",
            ],
            ["unknown AWS region 'eu-wset-1'"],
        ),
        "sagemaker: invalid pipeline name": Bad(
            [*SAGEMAKER, "--pipeline-name", "train!"], ["'train!'", "pipeline name"]
        ),
        "sagemaker: parameters file missing": Bad(
            [*SAGEMAKER, *pl, "--parameters-file", f["missing"]], ["cannot read", "missing.json"]
        ),
        "sagemaker: parameters file not JSON": Bad(
            [*SAGEMAKER, *pl, "--parameters-file", f["not_json"]], ["not valid JSON"]
        ),
        "sagemaker: parameters file nested 100,000 deep": Bad(
            [*SAGEMAKER, *pl, "--parameters-file", f["deep"]], ["deep.json", "nested too deeply"]
        ),
        "sagemaker: parameters file with NaN": Bad(
            [*SAGEMAKER, *pl, "--parameters-file", f["nan"]], ["nan.json", "NaN is not a JSON"]
        ),
        "sagemaker: parameters file with a 5,000-digit integer": Bad(
            [*SAGEMAKER, *pl, "--parameters-file", f["huge"]], ["more than 4,300 digits"]
        ),
        "sagemaker: parameters file /dev/zero": Bad(
            [*SAGEMAKER, *pl, "--parameters-file", "/dev/zero"],
            ["'/dev/zero' is more than 4,194,304 bytes"],
        ),
        "sagemaker: parameters from standard input beside an invalid pipeline name": Bad(
            [*SAGEMAKER, "--pipeline-name", "train!", "--parameters-file", "-"], ["'train!'"]
        ),
        "sagemaker: parameter with a lone surrogate": Bad(
            [*SAGEMAKER, *pl, "--parameter", "Epochs=\ud83d"], ["--parameter", "not UTF-8"]
        ),
        "sagemaker: concurrency above the maximum": Bad(
            [*SAGEMAKER, *pl, "--max-concurrency", "99999999"], ["--max-concurrency"]
        ),
        "sagemaker: description too long": Bad(
            [*SAGEMAKER, *pl, "--description", "d" * 3073], ["3073 characters", "at most 3072"]
        ),
        "sagemaker: negative timeout": Bad(
            [*SAGEMAKER, *pl, "--timeout-minutes", "-5"], ["--timeout-minutes"]
        ),
        # -- aws-sagemaker-list-pipelines
        "sagemaker list: unknown region": Bad(
            [*SAGEMAKER_LIST, "--aws-region", "us-east-9x"], ["unknown AWS region"]
        ),
        "sagemaker list: secret without its key id": Bad(
            [*SAGEMAKER_LIST, "--aws-secret-access-key", "s3cr3t-value"],
            ["--aws-access-key-id is needed"],
            env=NO_KEYS,
        ),
        # -- one target, two spellings: two runs of one target
        "lambda: a name and the same name at $LATEST": Bad(
            [*LAMBDA, "--function-name", "f1,f1:$LATEST"],
            ["'f1' and 'f1:$LATEST' name the same target"],
        ),
        "lambda: a name and its partial ARN": Bad(
            [*LAMBDA, "--function-name", "f1", "--function-name", "123456789012:function:f1"],
            ["'f1' and '123456789012:function:f1' name the same target"],
        ),
        "lambda: a partial ARN and the full ARN": Bad(
            [
                *LAMBDA,
                "--function-name",
                "123456789012:function:f1,arn:aws:lambda:us-east-1:123456789012:function:f1",
                "--aws-region",
                "us-east-1",
            ],
            ["'123456789012:function:f1' and 'arn:aws:lambda:us-east-1:123456789012:function:f1'"],
        ),
        "lambda: an ARN with a qualifier after '/'": Bad(
            [*LAMBDA, "--function-name", "arn:aws:lambda:us-east-1:123456789012:function:f1/live"],
            ["a qualifier follows ':', not '/'"],
        ),
        "sfn: a name and its ARN": Bad(
            [*SFN, "--state-machine-arn", f"nightly,{MACHINE}"],
            [f"'nightly' and '{MACHINE}' name the same target"],
        ),
        "sfn: a name and its ARN under an idempotency key": Bad(
            [*SFN, "--state-machine-arn", f"nightly,{MACHINE}", "--idempotency-key", "k1"],
            [f"'nightly' and '{MACHINE}' name the same target"],
        ),
        # -- credentials that would silently change account
        "lambda: an empty profile name": Bad(
            [*LAMBDA, *fn, "--aws-profile", ""], ["'--aws-profile'", "must not be empty"]
        ),
        "sfn list: a typed key id with the environment's secret": Bad(
            [*SFN_LIST, "--aws-access-key-id", "AKIAEXAMPLETYPED"],
            ["keys given half", "AWS_SECRET_ACCESS_KEY"],
        ),
        "sagemaker: a typed secret with the environment's key id": Bad(
            [*SAGEMAKER, *pl, "--aws-secret-access-key", "typed-secret-0123456789"],
            ["keys given half", "AWS_ACCESS_KEY_ID"],
            hides=["typed-secret-0123456789"],
        ),
        "lambda: AWS_DEFAULTS_MODE unknown": Bad(
            [*LAMBDA, *fn], ["AWS_DEFAULTS_MODE", "garbage"], env={"AWS_DEFAULTS_MODE": "garbage"}
        ),
        # -- a password in a URL is never echoed, however short
        "lambda: an endpoint URL with a password and a bad port": Bad(
            [*LAMBDA, *fn, "--endpoint-url", "http://robot:pw@127.0.0.1:99999"],
            ["'http://robot:****@127.0.0.1:99999' has an invalid port"],
            hides=[":pw@"],
        ),
        # -- a single-valued option given twice: which was meant cannot be told
        "lambda: --payload twice": Bad(
            [*LAMBDA, *fn, "--payload", "{}", "--payload", '{"a": 1}'], ["--payload is given twice"]
        ),
        "sfn: --timeout-minutes twice": Bad(
            [*SFN, *sm, "--timeout-minutes", "5", "--timeout-minutes=1e-9"],
            ["--timeout-minutes is given twice"],
        ),
        "sagemaker: a parameter given twice": Bad(
            [*SAGEMAKER, *pl, "--parameter", "A=1", "--parameter", "A=2"],
            ["parameter 'A' is given twice"],
        ),
    }


def _names() -> list[str]:
    """The case names (the paths do not matter to them)."""
    return list(cases(defaultdict(str)))


@pytest.fixture(scope="module")
def input_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return files(tmp_path_factory.mktemp("bad-input"))


@pytest.mark.parametrize("name", _names())
def test_bad_input_is_one_line_exit_2_and_no_request(name, input_files, aws_faults, ledger):
    bad = cases(input_files)[name]
    result = run_cli(bad.args, env=bad.env)
    assert result.exit_code == 2, (result.stdout, result.stderr)
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    [line] = lines
    assert line.startswith("Error: ")
    for words in bad.says:
        assert words in line, line
    for secret in bad.hides:
        assert secret not in result.stderr + result.stdout
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    assert aws_faults.count() == 0, [r.action for r in aws_faults.requests]
    ledger.record("6", faults=1, targets=0, duplicates=0)


def test_the_table_covers_every_command_and_at_least_thirty_inputs() -> None:
    names = _names()
    assert len(names) >= 30
    assert {name.split(":")[0] for name in names} == {
        "lambda",
        "lambda list",
        "sfn",
        "sfn list",
        "sagemaker",
        "sagemaker list",
    }


# -- through the console script ------------------------------------------------------------
def _script() -> str:
    found = shutil.which("paradime", path=str(Path(sys.executable).parent))
    assert found
    return found


def test_arguments_holding_bytes_that_are_not_utf8_are_one_line(script_env, aws_faults, ledger):
    """The shell passes bytes: Python keeps the undecodable ones as lone surrogates (before: a
    UnicodeEncodeError traceback when the payload was encoded)."""
    args = [_script().encode(), b"run", b"aws-lambda-invoke", b"--function-name", b"report"]
    completed = subprocess.run(
        [*args, b"--payload", b'"caf\xe9"'],
        env=script_env(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 2
    [line] = completed.stderr.decode().splitlines()
    assert line == (
        "Error: invalid value for '--payload': not UTF-8 text (character 5 is the byte 0xe9)"
    )
    assert completed.stdout == b""
    assert aws_faults.count() == 0
    ledger.record("6", faults=1, targets=0, duplicates=0)


@pytest.mark.parametrize(
    "args",
    [
        ["aws-lambda-invoke", "--function-name", "daily report", "--payload-file", "-"],
        ["aws-lambda-invoke", "--function-name", "f", "--payload-file", "-", *MOON],
        ["aws-stepfunctions-start-execution", "--state-machine-arn", "a b", "--input-file", "-"],
        ["aws-sagemaker-start-pipeline", "--pipeline-name", "p!", "--parameters-file", "-"],
    ],
    ids=["lambda-target", "lambda-region", "sfn-target", "sagemaker-target"],
)
def test_standard_input_is_not_waited_on_when_another_usage_error_exists(
    args, script_env, aws_faults, ledger
):
    """Standard input is a pipe nobody writes to or closes (a scheduler's, say): the usage
    error comes at once (before: the command waited for standard input to end)."""
    process = subprocess.Popen(
        [_script(), "run", *args],
        env=script_env(),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    began = time.monotonic()
    try:
        code = process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
        assert process.stdin is not None
        process.stdin.close()
    assert code == 2
    assert process.stderr is not None
    [line] = process.stderr.read().splitlines()
    assert line.startswith("Error: ") and "standard input" not in line
    assert time.monotonic() - began < 30
    assert aws_faults.count() == 0
    ledger.record("6", faults=1, targets=0, duplicates=0)


@pytest.mark.parametrize(
    "args",
    [
        ["aws-lambda-invoke", "--function-name", "report", "--payload-file", "-"],
        ["aws-stepfunctions-start-execution", "--state-machine-arn", MACHINE, "--input-file", "-"],
    ],
    ids=["lambda", "sfn"],
)
def test_standard_input_closed_is_one_line(args, script_env, aws_faults, ledger):
    """``<&-``: Python has no sys.stdin (before: a traceback, 'NoneType' object has no
    attribute 'read', exit 1)."""
    command = " ".join([_script(), "run", *args])
    completed = subprocess.run(
        ["sh", "-c", f"exec {command} <&-"],
        env=script_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 2, completed.stderr
    [line] = completed.stderr.splitlines()
    assert line.startswith("Error: invalid value for '--")
    assert line.endswith("standard input is closed: pipe the input in, or name a file")
    assert completed.stdout == ""
    assert aws_faults.count() == 0
    ledger.record("6", faults=1, targets=0, duplicates=0)


@pytest.mark.parametrize(
    ("command", "variable"),
    [("fivetran-sync", "FIVETRAN_BASE_URL"), ("airbyte-sync", "AIRBYTE_BASE_URL")],
)
def test_a_base_url_password_is_masked_in_the_error(command, variable):
    """A base URL holding credentials is refused; the error quoted the password (before)."""
    option = "--connector-id" if command == "fivetran-sync" else "--connection-id"
    result = run_cli(
        ["run", command, option, "e735894a-e773-4938-969f-45f53957b75b"],
        env={
            variable: "http://robot:pw-7c1e@127.0.0.1:9",
            "FIVETRAN_API_KEY": "key-0123",
            "FIVETRAN_API_SECRET": "secret-0123",
            "AIRBYTE_CLIENT_ID": "client-0123",
            "AIRBYTE_CLIENT_SECRET": "secret-0123",
        },
    )
    assert result.exit_code == 2, result.stderr
    [line] = result.stderr.splitlines()
    assert "http://robot:****@127.0.0.1:9" in line
    assert "pw-7c1e" not in result.stdout + result.stderr
