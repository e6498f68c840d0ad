"""Service endpoints and partitions: where each request goes, and where the links point.

* An endpoint the user configured for a service (``AWS_ENDPOINT_URL_SFN``, the config file's
  ``services`` section) is one of the user's choosing, like ``--endpoint-url``: botocore must not
  prefix its host (``sync-`` for StartSyncExecution), or the request goes to a host that does
  not exist. The loopback guard of these tests fails any name lookup, ``sync-127.0.0.1``
  included.
* Console links and ARN checks follow the region's partition (aws-cn, aws-us-gov).
"""

from __future__ import annotations

from typing import Any

import pytest

from paradime.testing import run_cli
from paradime_aws_stepfunctions.testing import pass_machine

SFN = ["run", "aws-stepfunctions-start-execution"]


def configured(where: str, url: str, tmp_path: Any) -> dict[str, str | None]:
    """The environment sending Step Functions requests to ``url`` by one of botocore's ways,
    and nothing else: no AWS_ENDPOINT_URL."""
    if where == "AWS_ENDPOINT_URL_SFN":
        return {"AWS_ENDPOINT_URL": None, "AWS_ENDPOINT_URL_SFN": url}
    config = tmp_path / "config"
    config.write_text(
        "[profile local]\nregion = us-east-1\nservices = emulator\n\n"
        f"[services emulator]\nsfn =\n  endpoint_url = {url}\n"
    )
    return {"AWS_ENDPOINT_URL": None, "AWS_CONFIG_FILE": str(config), "AWS_PROFILE": "local"}


@pytest.mark.parametrize("where", ["AWS_ENDPOINT_URL_SFN", "config services section"])
def test_a_configured_service_endpoint_gets_the_synchronous_start_unprefixed(
    where, emulators, aws_faults, tmp_path
):
    arn = emulators.machines.arn("quick", pass_machine(), type="EXPRESS")
    env = configured(where, aws_faults.url, tmp_path)
    result = run_cli([*SFN, "--state-machine-arn", arn, "--json"], env=env)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert result.statuses == {arn: "SUCCEEDED"}
    assert aws_faults.count("StartSyncExecution") == 1
    assert aws_faults.count("DescribeStateMachine") == 1


def test_a_service_endpoint_variable_beats_aws_endpoint_url(emulators, aws_faults, aws):
    """botocore's order: AWS_ENDPOINT_URL_<SERVICE> first, then AWS_ENDPOINT_URL."""
    arn = emulators.machines.arn("quick", pass_machine())
    env = {"AWS_ENDPOINT_URL": "http://127.0.0.1:9", "AWS_ENDPOINT_URL_SFN": aws_faults.url}
    result = run_cli([*SFN, "--state-machine-arn", arn, "--json"], env=env)
    assert result.statuses == {arn: "SUCCEEDED"}, result.stdout
    assert aws_faults.count("StartExecution") == 1


def test_a_typed_endpoint_url_beats_every_configured_one(emulators, aws_faults):
    arn = emulators.machines.arn("quick", pass_machine())
    env = {"AWS_ENDPOINT_URL": None, "AWS_ENDPOINT_URL_SFN": "http://127.0.0.1:9"}
    args = [*SFN, "--state-machine-arn", arn, "--endpoint-url", aws_faults.url, "--json"]
    result = run_cli(args, env=env)
    assert result.statuses == {arn: "SUCCEEDED"}, result.stdout
    assert aws_faults.count("StartExecution") == 1


@pytest.mark.parametrize(
    ("region", "console"),
    [
        ("cn-north-1", "https://console.amazonaws.cn/states/home?region=cn-north-1#"),
        ("us-gov-west-1", "https://console.amazonaws-us-gov.com/states/home?region=us-gov-west-1#"),
        ("eu-west-1", "https://eu-west-1.console.aws.amazon.com/states/home?region=eu-west-1#"),
    ],
)
def test_console_links_point_at_the_console_of_the_regions_partition(
    region, console, emulators, aws
):
    arn = emulators.machines.arn("greet", pass_machine(), region=region)
    assert arn.split(":")[1] == {"cn-north-1": "aws-cn", "us-gov-west-1": "aws-us-gov"}.get(
        region, "aws"
    )
    result = run_cli([*SFN, "--state-machine-arn", arn, "--json"])
    assert result.exit_code == 0, result.stdout + result.stderr
    [row] = result.json["results"]
    assert row["console_url"].startswith(console), row["console_url"]
