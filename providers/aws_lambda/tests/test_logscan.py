"""The lines Lambda itself writes for an invocation (its start, end, report and the failures only
the platform reports), one by one. The runtimes' error records are in test_verdict.py."""

from __future__ import annotations

import json

import pytest

from paradime_aws_lambda.logscan import boundary, classify

RID = "6f2c1a9e-0b1d-4c55-9a0e-3d1f9b7c2e10"
OTHER = "11111111-2222-3333-4444-555555555555"
TS = "2024-06-01T02:00:00.123Z"


@pytest.mark.parametrize(
    ("line", "kind", "failure"),
    [
        (f"START RequestId: {RID} Version: $LATEST\n", "start", None),
        (f"END RequestId: {RID}\n", "end", None),
        (
            f"REPORT RequestId: {RID}\tDuration: 2.1 ms\tBilled Duration: 3 ms\t"
            "Memory Size: 128 MB\tMax Memory Used: 40 MB\t\n",
            "report",
            None,
        ),
        (
            f"REPORT RequestId: {RID}\tDuration: 3000.00 ms\tStatus: timeout\n",
            "report",
            "the invocation ended with status timeout",
        ),
        (
            f"REPORT RequestId: {RID}\tDuration: 20.00 ms\tStatus: error\t"
            "Error Type: Runtime.ExitError\n",
            "report",
            "the invocation ended with status error (Runtime.ExitError)",
        ),
        (f"{TS} {RID} Task timed out after 900.00 seconds\n", "failure", None),
        (
            f"RequestId: {RID} Error: Runtime exited with error: signal: killed\n",
            "failure",
            "Runtime exited with error: signal: killed",
        ),
        (
            json.dumps(
                {
                    "time": TS,
                    "type": "platform.report",
                    "record": {"requestId": RID, "status": "failure", "errorType": "Runtime.Oom"},
                }
            ),
            "report",
            "the invocation ended with status failure (Runtime.Oom)",
        ),
    ],
)
def test_lines_carrying_the_request_id(line, kind, failure):
    fact = classify(line, RID)
    assert fact is not None and fact.kind == kind
    said = fact.failure or (fact.status.message if fact.status else None)
    if kind == "failure" and failure is None:
        assert said == "Task timed out after 900.00 seconds"
    else:
        assert said == failure


@pytest.mark.parametrize(
    "line",
    [
        f"START RequestId: {OTHER} Version: $LATEST",
        f"[ERROR]\t{TS}\t{RID}\tthe upstream answered 503, retrying",  # logged, not raised
        f"[INFO]\t{TS}\t{RID}\tTask list loaded",
        json.dumps({"type": "platform.start", "record": {"requestId": OTHER}}),
        "",
    ],
)
def test_lines_that_say_nothing_about_this_invocation(line):
    assert classify(line, RID) is None


def test_boundaries_name_the_invocation_they_belong_to():
    assert boundary(f"START RequestId: {OTHER} Version: 3") == OTHER
    assert boundary(f"REPORT RequestId: {RID}\tDuration: 1 ms") == RID
    assert boundary(json.dumps({"type": "platform.report", "record": {"requestId": RID}})) == RID
    assert boundary("[ERROR] ValueError: boom") is None


def test_a_report_without_a_status_says_nothing_of_the_outcome():
    fact = classify(f"REPORT RequestId: {RID}\tDuration: 2.1 ms\t", RID)
    assert fact is not None and fact.kind == "report" and fact.status is None
    success = json.dumps(
        {"type": "platform.report", "record": {"requestId": RID, "status": "success"}}
    )
    fact = classify(success, RID)
    assert fact is not None and fact.status is not None and fact.status.status == "success"
