"""AWS Step Functions provider: ``aws-stepfunctions-start-execution`` and
``aws-stepfunctions-list-state-machines``.

This module only declares the commands (plain data, no boto3); the runner and the lister live in
:mod:`paradime_aws_stepfunctions.runner`, imported when a command runs.
"""

from __future__ import annotations

from collections.abc import Callable

from paradime.api import (
    Column,
    Command,
    ListCommand,
    ListDisplay,
    Option,
    TargetOption,
    TriggerCommand,
    hookimpl,
    lazy,
)
from paradime_aws_common import AWS_OPTIONS, aws_display
from paradime_aws_stepfunctions.inputs import (
    canonical_target,
    parse_execution_name,
    parse_input,
    parse_input_file,
    validate_target,
)

__all__ = ["LIST_COMMAND", "TRIGGER_COMMAND", "paradime_register_commands"]

# DescribeExecution draws on an account-wide token bucket shared with every other client of the
# account (consoles, other schedulers, the workflows themselves). AWS's quotas page gives it a
# refill rate of 10 requests/s in most regions (15/s in us-east-1, us-west-2 and eu-west-1).
# Half of the smaller one leaves the rest to them, and still polls 150 executions at the 30 s
# ceiling of the schedule without delaying any; beyond that, polls are spread out, not dropped.
POLL_RATE_PER_S = 5.0
# A start is StartExecution (bucket 800, refill 150/s in most regions; 1,300 and 300/s in the
# three largest) and, once per state machine, DescribeStateMachine (bucket 200, refill 20/s):
# the tighter one sets the cap, at half its rate and half its bucket, as for status checks.
START_RATE_PER_S = 10.0
START_BURST = 100

SFN_OPTIONS: tuple[Option, ...] = (
    Option(
        "--input",
        "Execution input: JSON text (at most 256 KiB), sent as given. Default: {}.",
        metavar="JSON",
        aliases=("--input-data",),
        parse=parse_input,
    ),
    Option(
        "--input-file",
        "Read the execution input (JSON) from a file, or '-' for standard input.",
        metavar="PATH",
        parse=parse_input_file,
    ),
    Option(
        "--execution-name",
        "Name of each execution (1-80 characters; unique per state machine for 90 days). "
        "Default: paradime-<UTC time>-<random>, chosen once per target so that a retried start "
        "returns the same execution.",
        metavar="NAME",
        parse=parse_execution_name,
    ),
)


TRIGGER_COMMAND = TriggerCommand(
    name="aws-stepfunctions-start-execution",
    help="Start AWS Step Functions executions and wait for them.\n\n"
    "STANDARD state machines are polled with DescribeExecution; EXPRESS ones run with "
    "StartSyncExecution when waiting (they cannot be described). Failures report the "
    "execution's error and cause.\n\n"
    "Permissions: states:StartExecution and states:DescribeExecution (states:ListStateMachines "
    "for name targets). states:DescribeStateMachine lets an EXPRESS machine be waited for "
    "(with states:StartSyncExecution); without it the type is learned from the start's answer.",
    service="states",
    target=TargetOption(
        "--state-machine-arn",
        "State machine ARN (optionally qualified with :VERSION or :ALIAS) or name; an ARN's "
        "region wins over --aws-region, a name is looked up in --aws-region.",
        metavar="ARN|NAME",
        aliases=("--state-machine-arns",),
        validate=validate_target,
        canonical=canonical_target,
    ),
    options=(*SFN_OPTIONS, *AWS_OPTIONS),
    factory=lazy("paradime_aws_stepfunctions.runner:StateMachineRunner"),
    default_timeout_minutes=1440,
    poll_rate_per_s=POLL_RATE_PER_S,
    start_rate_per_s=START_RATE_PER_S,
    start_burst=START_BURST,
    aliases=("aws-stepfunctions-trigger",),
    emoji="🔀",
    display=aws_display(
        heading="🚀 TRIGGERING AWS STEP FUNCTIONS STATE MACHINES",
        trigger="Starting execution...",
        started="Execution started: {run_id}",
        succeeded_at_trigger="Execution completed successfully",
        results_title="📊 EXECUTION RESULTS",
        target_header="STATE MACHINE",
    ),
    idempotent=True,
    idempotency_help="Each execution is named <key>-<machine>-<16 hex digits of a hash> "
    "(at most 80 characters): one that is running is attached to, one that has ended is "
    "reported, a different input is refused. Not for EXPRESS machines (Step Functions does not "
    "deduplicate their starts), nor with --execution-name.",
)

LIST_COMMAND = ListCommand(
    name="aws-stepfunctions-list-state-machines",
    help="List the Step Functions state machines of the region (every page).",
    columns=(
        Column("name", "NAME"),
        Column("type", "TYPE"),
        Column("arn", "ARN"),
        Column("creation_date", "CREATED"),
    ),
    factory=lazy("paradime_aws_stepfunctions.runner:StateMachineLister"),
    options=AWS_OPTIONS,
    aliases=("aws-stepfunctions-list",),
    display=ListDisplay(
        heading="📋 LISTING AWS STEP FUNCTIONS STATE MACHINES", noun="state machine"
    ),
)


@hookimpl
def paradime_register_commands(register: Callable[[Command], None]) -> None:
    """Declare the Step Functions commands."""
    register(TRIGGER_COMMAND)
    register(LIST_COMMAND)
