"""Bad input exits 2 with one line naming the problem, before any AWS call; old spellings work."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.usefixtures("fast_polling")

ARN = "arn:aws:states:us-east-1:123456789012:stateMachine:nightly"


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--state-machine-arn", "arn:aws:states:us-east-1:1234:stateMachine:x"], "account id"),
        (["--state-machine-arn", "arn:aws:lambda:us-east-1:123456789012:function:f"],
         "of service 'lambda', not 'states'"),
        (["--state-machine-arn", "arn:aws:states:us-east-1:123456789012:execution:x:y"],
         "is a 'execution' ARN, not a 'stateMachine' ARN"),
        (["--state-machine-arn", "arn:aws:states:us-east-1:123456789012:stateMachine:a:b:c"],
         "is not a state machine ARN"),
        (["--state-machine-arn", "arn:aws:states:us-east-1:123456789012:stateMachine:x:01"],
         "invalid version number '01'"),
        (["--state-machine-arn", "arn:aws:states:xx-moon-1:123456789012:stateMachine:x"],
         "unknown AWS region 'xx-moon-1'"),
        (["--state-machine-arn", "my machine"], "state machine name 'my machine' contains ' '"),
        (["--state-machine-arn", "x" * 81], "is 81 characters long; at most 80"),
        (["--state-machine-arn", ARN, "--input", "{'a': 1}"],
         "invalid value for '--input': the input is not valid JSON"),
        (["--state-machine-arn", ARN, "--input", "{}", "--input-data", "{}"],
         "--input and --input-data are the same option"),
        (["--state-machine-arn", ARN, "--input", "{}", "--input-file", "-"],
         "give the execution input with --input or --input-file, not both"),
        (["--state-machine-arn", ARN, "--input-file", "/nonexistent/input.json"],
         "cannot read '/nonexistent/input.json'"),
        (["--state-machine-arn", ARN, "--execution-name", "a/b"],
         "invalid value for '--execution-name': execution name 'a/b' contains '/'"),
        (["--state-machine-arn", ARN, "--execution-name", "n" * 81],
         "is 81 characters long; at most 80"),
        (["--state-machine-arn", ARN, "--timeout-minutes", "0"], "--timeout-minutes"),
    ],
)  # fmt: skip
def test_bad_input_is_a_usage_error_before_any_call(start, aws_faults, args, words):
    result = start(*args)
    assert result.exit_code == 2, result.stdout + result.stderr
    assert words in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr
    assert aws_faults.count() == 0


def test_input_over_256_kib_is_a_usage_error(start, aws_faults, tmp_path):
    path = tmp_path / "big.json"
    path.write_text('{"blob": "' + "x" * (256 * 1024) + '"}', encoding="utf-8")
    result = start("--state-machine-arn", ARN, "--input-file", str(path))
    assert result.exit_code == 2
    assert "bytes; Step Functions accepts at most 262,144 bytes" in result.stderr
    assert aws_faults.count() == 0


def test_input_of_exactly_256_kib_is_accepted(start, machines, asl, tmp_path):
    # The emulator, like AWS, fails an execution whose state output exceeds 256 KiB: this
    # machine replaces its input by a small result.
    arn = machines.arn("hello", asl.passing(result_path=None))
    text = '{"blob": "' + "x" * (256 * 1024 - 12) + '"}'
    assert len(text.encode()) == 256 * 1024
    path = tmp_path / "edge.json"
    path.write_text(text, encoding="utf-8")
    result = start("--state-machine-arn", arn, "--input-file", str(path), "--json")
    assert result.exit_code == 0, result.stderr


def test_old_command_and_option_spellings_still_work(paradime_cli, machines, asl):
    a = machines.arn("a", asl.choice())
    b = machines.arn("b", asl.choice())
    result = paradime_cli(
        ["run", "aws-stepfunctions-trigger", "--state-machine-arns", f"{a},{b}",
         "--input-data", '{"n": 3}', "--json"]
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert result.statuses == {a: "SUCCEEDED", b: "SUCCEEDED"}
    listed = paradime_cli(["run", "aws-stepfunctions-list", "--json"])
    assert {row["name"] for row in listed.json} == {"a", "b"}


def test_help_names_the_options_and_hides_old_spellings(paradime_cli):
    result = paradime_cli(["run", "aws-stepfunctions-start-execution", "--help"])
    assert result.exit_code == 0
    for option in ("--state-machine-arn", "--input", "--input-file", "--execution-name",
                   "--wait-for-completion", "--timeout-minutes", "--cancel-on-exit",
                   "--endpoint-url"):  # fmt: skip
        assert option in result.stdout
    assert "--input-data" not in result.stdout
    assert "--state-machine-arns" not in result.stdout
    assert "1440" in result.stdout


def test_secrets_never_reach_the_output(start, machines, asl, aws):
    arn = machines.arn("hello", asl.passing())
    secret = aws.env["AWS_SECRET_ACCESS_KEY"]
    result = start(
        "--state-machine-arn", arn, "--aws-secret-access-key", secret,
        "--aws-access-key-id", aws.env["AWS_ACCESS_KEY_ID"], "--log-level", "DEBUG", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert secret not in result.stdout + result.stderr
