"""AWS Lambda commands for ``paradime run``.

* ``aws-lambda-invoke`` invokes functions (RequestResponse, Event or DryRun), waits for them and
  reports each one's outcome, with the function's ``errorType``/``errorMessage`` when it fails;
* ``aws-lambda-list-functions`` lists the functions of a region.

This module only declares the commands: boto3 is imported when a command runs (see
:mod:`paradime_aws_lambda.runner`).
"""

from __future__ import annotations

from collections.abc import Callable

from paradime.api import (
    Choice,
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
from paradime_aws_lambda.inputs import (
    INVOCATION_TYPES,
    LOG_TYPES,
    parse_client_context,
    parse_payload,
    parse_payload_file,
)
from paradime_aws_lambda.targets import canonical_target, check_qualifier, validate_target

INVOKE_OPTIONS: tuple[Option, ...] = (
    Option(
        "--invocation-type",
        "RequestResponse waits for the function's answer; Event queues the invocation (with "
        "--wait-for-completion, followed through the function's CloudWatch Logs, which needs "
        "logs:FilterLogEvents on its log group); DryRun only checks parameters and permissions.",
        type=Choice(INVOCATION_TYPES),
        default="RequestResponse",
    ),
    Option(
        "--payload",
        "JSON input of every function invoked (checked before any call).",
        metavar="JSON",
        parse=parse_payload,
    ),
    Option(
        "--payload-file",
        "Read the JSON input from a file, or from standard input with '-'.",
        metavar="PATH",
        parse=parse_payload_file,
    ),
    Option(
        "--qualifier",
        "Version or alias to invoke, for functions that do not name one themselves "
        "(name:alias or an ARN with :alias wins).",
        parse=check_qualifier,
    ),
    Option(
        "--client-context",
        "JSON object passed to RequestResponse invocations as the context's client_context "
        "(base64-encoded for you; at most 3583 bytes encoded).",
        metavar="JSON",
        parse=parse_client_context,
    ),
    Option(
        "--log-type",
        "Tail: print the last 4 KB of each function's log (RequestResponse only).",
        type=Choice(LOG_TYPES),
        default="None",
    ),
)

LIST_OPTIONS: tuple[Option, ...] = (
    Option(
        "--name-contains",
        "Only functions whose name contains this text (case-insensitive).",
        metavar="TEXT",
    ),
)


TRIGGER_COMMAND = TriggerCommand(
    name="aws-lambda-invoke",
    help="Invoke AWS Lambda functions and report each invocation's outcome.\n\n"
    "A function that fails (FunctionError) is FAILED with its errorType and errorMessage; its "
    "answer is in the --json result. An invocation is never repeated after an error that may "
    "have reached Lambda; throttles are retried with backoff.\n\n"
    "Permissions: lambda:InvokeFunction (lambda:GetFunction, when allowed, reads the "
    "function's configuration: its log group, its timeout). Waiting for Event invocations "
    "also needs logs:FilterLogEvents.",
    # Polls are CloudWatch Logs reads (Event invocations followed through their logs), and
    # FilterLogEvents is capped at 5 requests/s per account and region, a quota AWS does not
    # raise: the cap paradime keeps to, every page of a poll included.
    service="logs",
    poll_rate_per_s=5.0,
    target=TargetOption(
        "--function-name",
        "Function to invoke: a name, a partial ARN (123456789012:function:name) or a full ARN, "
        "optionally with :alias or :version.",
        metavar="FUNCTION",
        aliases=("--function-names",),
        validate=validate_target,
        canonical=canonical_target,
    ),
    options=(*INVOKE_OPTIONS, *AWS_OPTIONS),
    factory=lazy("paradime_aws_lambda.runner:FunctionRunner"),
    default_timeout_minutes=15,
    # A RequestResponse invocation is the whole run, held by its trigger call for as long as
    # the function runs (up to 15 minutes): concurrency is how many functions run at once. 100
    # is a tenth of the default account concurrency quota (1,000) that every function of the
    # region shares; Lambda's invoke request quota is ten times the concurrency quota.
    default_max_concurrency=100,
    aliases=("aws-lambda-trigger",),
    emoji="⚡",
    # An invocation cannot be stopped once Lambda has it.
    can_cancel=False,
    display=aws_display(
        heading="🚀 TRIGGERING AWS LAMBDA FUNCTIONS",
        trigger="Invoking Lambda function...",
        details=("Invocation type: {invocation_type}",),
        started="Invocation queued: request id {run_id}",
        succeeded_at_trigger="Invocation successful",
        results_title="📊 INVOCATION RESULTS",
        target_header="FUNCTION NAME",
    ),
    idempotency_help="Lambda has no way to recognise a repeated invocation: every run of this "
    "command invokes its functions again, so a retry invokes them twice.",
)

LIST_COMMAND = ListCommand(
    name="aws-lambda-list-functions",
    help="List the Lambda functions of a region (every page).",
    columns=(
        Column("name", "NAME"),
        Column("runtime", "RUNTIME"),
        Column("memory_mb", "MEMORY (MB)"),
        Column("timeout_s", "TIMEOUT (S)"),
        Column("last_modified", "LAST MODIFIED"),
    ),
    options=(*LIST_OPTIONS, *AWS_OPTIONS),
    factory=lazy("paradime_aws_lambda.runner:FunctionLister"),
    sort_by="name",
    aliases=("aws-lambda-list",),
    display=ListDisplay(heading="📋 LISTING AWS LAMBDA FUNCTIONS", noun="function"),
)


@hookimpl
def paradime_register_commands(register: Callable[[Command], None]) -> None:
    """Declare ``aws-lambda-invoke`` and ``aws-lambda-list-functions``."""
    register(TRIGGER_COMMAND)
    register(LIST_COMMAND)
