"""Scenario 10, parallel processes: three ``paradime`` commands at once against one emulator.

As a scheduler runs them: separate processes, started together, sharing the account. Each must
succeed and report only its own runs, every run id being one the emulator gave to that command's
own targets.
"""

from __future__ import annotations

from typing import Any

LAMBDA = "aws-lambda-invoke"
SFN = "aws-stepfunctions-start-execution"
SAGEMAKER = "aws-sagemaker-start-pipeline"


def finish_all(processes: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Wait for every process; {name: its --json document}, each having exited 0."""
    documents = {}
    for name, process in processes.items():
        code = process.finish()
        assert code == 0, f"{name} exited {code}:\n{process.stderr}"
        assert "Traceback" not in process.stderr
        documents[name] = process.json
    return documents


def test_three_providers_at_once_each_report_only_their_own_runs(
    emulators, spawn, script_env, ledger
):
    from paradime_aws_stepfunctions.testing import wait_machine

    emulators.functions.create("export-a", "export-b")
    arns = [emulators.machines.arn(n, wait_machine(1)) for n in ("etl-a", "etl-b")]
    for name in ("train-a", "train-b"):
        emulators.sagemaker.create_pipeline(name)
        emulators.sagemaker.script(name, "Executing", "Succeeded")
    env = script_env()
    processes = {
        LAMBDA: spawn(["run", LAMBDA, "--function-name", "export-a,export-b", "--json"], env),
        SFN: spawn(["run", SFN, "--state-machine-arn", ",".join(arns), "--json"], env),
        SAGEMAKER: spawn(["run", SAGEMAKER, "--pipeline-name", "train-a,train-b", "--json"], env),
    }
    documents = finish_all(processes)
    expected = {
        LAMBDA: {
            t: [i.request_id for i in emulators.lambda_.invoked(t)]
            for t in ("export-a", "export-b")
        },
        SFN: {arn: [e["executionArn"] for e in emulators.machines.executions(arn)] for arn in arns},
        SAGEMAKER: {
            t: [e["PipelineExecutionArn"] for e in emulators.sagemaker.executions(t)]
            for t in ("train-a", "train-b")
        },
    }
    for command, document in documents.items():
        assert document["command"] == command
        assert document["ok"] is True
        rows = {row["target"]: row for row in document["results"]}
        assert {t: r["status"] for t, r in rows.items()} == dict.fromkeys(
            expected[command], "SUCCEEDED"
        )
        # Each run id is the one run the emulator has for that target.
        assert {t: [r["run_id"]] for t, r in rows.items()} == expected[command]
    run_ids = [row["run_id"] for d in documents.values() for row in d["results"]]
    assert len(set(run_ids)) == len(run_ids) == 6
    duplicates = (
        emulators.duplicate_invocations()
        + emulators.duplicate_executions(arns)
        + emulators.duplicate_pipeline_executions(["train-a", "train-b"])
    )
    ledger.record("10", faults=len(processes), targets=len(run_ids), duplicates=duplicates)


def test_three_step_functions_commands_at_once_each_report_only_their_own_executions(
    emulators, spawn, script_env, ledger
):
    """The same command three times over, on different state machines: the generated execution
    names and the polling of one never reach another."""
    from paradime_aws_stepfunctions.testing import pass_machine, wait_machine

    groups = {
        "nightly": [emulators.machines.arn(f"nightly-{i}", wait_machine(1)) for i in range(3)],
        "hourly": [emulators.machines.arn(f"hourly-{i}", pass_machine()) for i in range(3)],
        "backfill": [emulators.machines.arn(f"backfill-{i}", wait_machine(2)) for i in range(3)],
    }
    env = script_env()
    processes = {
        name: spawn(["run", SFN, "--state-machine-arn", ",".join(arns), "--json"], env)
        for name, arns in groups.items()
    }
    documents = finish_all(processes)
    for name, document in documents.items():
        rows = document["results"]
        assert [row["target"] for row in rows] == groups[name]
        for row in rows:
            assert row["status"] == "SUCCEEDED"
            [execution] = emulators.machines.executions(row["target"])
            assert row["run_id"] == execution["executionArn"]
    all_arns = [arn for arns in groups.values() for arn in arns]
    ledger.record(
        "10",
        faults=len(processes),
        targets=len(all_arns),
        duplicates=emulators.duplicate_executions(all_arns),
    )
