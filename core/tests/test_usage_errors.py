"""Bad input: one line, exit code 2, and no call to the provider."""

from __future__ import annotations

import pytest

from paradime.testing import run_cli


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ([], "missing option '--job'"),
        (["--job", ""], "empty target name"),
        (["--job", "a,,b"], "empty target name"),
        (["--job", "bad"], "'bad' is not allowed"),
        (["--job", "ok", "--timeout-minutes", "0"], "--timeout-minutes"),
        (["--job", "ok", "--timeout-minutes", "-5"], "--timeout-minutes"),
        (["--job", "ok", "--timeout-minutes", "soon"], "'soon' is not a valid float"),
        (["--job", "ok", "--max-concurrency", "0"], "--max-concurrency"),
        (["--job", "ok", "--max-concurrency", "1001"], "1001 (from 1 to 1000)"),
        (["--job", "ok", "--label", "caf\udce9"], "not UTF-8 text (character 4 is the byte 0xe9)"),
        (["--job", "bad", "--label", "-"], "'bad' is not allowed"),
        (["--job", "ok", "--label", "a", "--old-label", "b"], "same option"),
        (["--job", "ok", "--no-such-option"], "No such option '--no-such-option'"),
        (["--job", "ok", "--log-level", "loud"], "--log-level"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_nothing_is_called(scripted, args, expected):
    result = run_cli(["run", "scripted-run", *args])
    assert result.exit_code == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: ")
    assert expected in lines[0]
    assert "Traceback" not in result.stderr
    assert sum(scripted.calls.triggers.values()) == 0


def test_unknown_command_is_a_usage_error(scripted):
    result = run_cli(["run", "no-such-command"])
    assert result.exit_code == 2
    assert "No such command 'no-such-command'" in result.stderr


def test_an_unexpected_extra_argument_is_never_echoed(scripted):
    """A token pasted after a forgotten option name: the error says what happened without the
    value (before: 'Got unexpected extra argument (FwoGZXIvYXdzEXAMPLETOKEN)')."""
    token = "FwoGZXIvYXdzEXAMPLETOKEN"
    result = run_cli(["run", "scripted-run", "--job", "ok", token, "--label", "x", token + "2"])
    assert result.exit_code == 2
    [line] = result.stderr.splitlines()
    assert line.startswith("Error: got 2 unexpected extra arguments, not shown"), line
    assert "FwoGZXIvYXdz" not in result.stderr + result.stdout
    assert sum(scripted.calls.triggers.values()) == 0
    listing = run_cli(["providers", token])
    assert listing.exit_code == 2
    assert "got 1 unexpected extra argument," in listing.stderr
    assert "FwoGZXIvYXdz" not in listing.stderr + listing.stdout
