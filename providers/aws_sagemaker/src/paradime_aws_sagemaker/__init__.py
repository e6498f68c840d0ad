"""SageMaker Pipelines commands for ``paradime run``.

* ``aws-sagemaker-start-pipeline`` starts pipeline executions (with parameters), waits for them
  and reports each one's outcome, with the failed step and its reason when one fails;
* ``aws-sagemaker-list-pipelines`` lists the pipelines of a region.

This module only declares the commands: boto3 is imported when a command runs (see
:mod:`paradime_aws_sagemaker.runner`).
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
from paradime_aws_sagemaker.inputs import (
    canonical_target,
    load_parameters_file,
    parse_description,
    parse_display_name,
    parse_parameter_options,
    validate_target,
)

# DescribePipelineExecution calls per second across all runs of one command (a waiting run
# polls every 2-30 s, so this only binds with hundreds of pipelines at once).
POLL_RATE_PER_S = 5.0
# SageMaker publishes no request rate for StartPipelineExecution (its quotas page lists 20
# pipeline executions running at once per account, a soft quota); starts keep to the rate of
# its status checks, in bursts of the concurrency default.
START_RATE_PER_S = 5.0
START_BURST = 10

START_OPTIONS: tuple[Option, ...] = (
    Option(
        "--parameter",
        "A pipeline parameter, NAME=VALUE, for every pipeline started. Repeat it for more; "
        "it wins over --parameters-file.",
        multiple=True,
        metavar="NAME=VALUE",
        parse=parse_parameter_options,
    ),
    Option(
        "--parameters-file",
        "A JSON object of pipeline parameters. String, number or boolean values apply to every "
        'pipeline; an object value applies to the pipeline it is keyed by: {"Alpha": "0.1", '
        '"nightly-train": {"Epochs": 5}}.',
        metavar="PATH",
        parse=load_parameters_file,
    ),
    Option(
        "--display-name",
        "Display name of the executions (letters, digits and hyphens; at most 82 characters).",
        parse=parse_display_name,
    ),
    Option(
        "--description",
        "Description of the executions (at most 3072 characters).",
        parse=parse_description,
    ),
)


TRIGGER_COMMAND = TriggerCommand(
    name="aws-sagemaker-start-pipeline",
    help=(
        "Start SageMaker pipeline executions and wait for them.\n\n"
        "Each pipeline gets one execution, started with a client request token so that a "
        "retried request never starts a second one. A failed execution is reported with its "
        "failure reason and the failed step.\n\n"
        "Permissions: sagemaker:StartPipelineExecution and "
        "sagemaker:DescribePipelineExecution. sagemaker:ListPipelineExecutionSteps names the "
        "running and the failed steps; sagemaker:StopPipelineExecution serves --cancel-on-exit."
    ),
    service="sagemaker",
    target=TargetOption(
        "--pipeline-name",
        "Pipeline to start: a name, or an ARN (its region is used for it).",
        metavar="NAME|ARN",
        aliases=("--pipeline-names",),
        validate=validate_target,
        canonical=canonical_target,
    ),
    options=(*START_OPTIONS, *AWS_OPTIONS),
    factory=lazy("paradime_aws_sagemaker.runner:PipelineRunner"),
    default_timeout_minutes=1440,
    poll_rate_per_s=POLL_RATE_PER_S,
    start_rate_per_s=START_RATE_PER_S,
    start_burst=START_BURST,
    aliases=("aws-sagemaker-trigger",),
    emoji="🧠",
    display=aws_display(
        heading="🚀 TRIGGERING AWS SAGEMAKER PIPELINES",
        trigger="Starting pipeline execution...",
        started="Pipeline execution started: {run_id}",
        results_title="📊 PIPELINE EXECUTION RESULTS",
        target_header="PIPELINE NAME",
    ),
    idempotent=True,
    idempotency_help="The client request token is <key>-<pipeline>-<hash> (32 to 128 "
    "characters), so SageMaker answers a repeat with the execution it made first: one that is "
    "running is attached to, one that has ended is reported, and a parameter this attempt gives "
    "with another value is refused.",
)

LIST_COMMAND = ListCommand(
    name="aws-sagemaker-list-pipelines",
    help="List the SageMaker pipelines of the region (every page).",
    columns=(
        Column("name", "NAME"),
        Column("arn", "ARN"),
        Column("created", "CREATED"),
        Column("last_modified", "LAST MODIFIED"),
        Column("last_execution", "LAST EXECUTION"),
    ),
    factory=lazy("paradime_aws_sagemaker.runner:PipelineLister"),
    sort_by="name",
    options=AWS_OPTIONS,
    aliases=("aws-sagemaker-list",),
    display=ListDisplay(heading="📋 LISTING AWS SAGEMAKER PIPELINES", noun="pipeline"),
)


@hookimpl
def paradime_register_commands(register: Callable[[Command], None]) -> None:
    """Add the SageMaker Pipelines commands."""
    register(TRIGGER_COMMAND)
    register(LIST_COMMAND)
