"""Scenario 8, secrets: at debug level, in JSON and console logs, the secret access key and the
session token never appear in the real console script's stdout or stderr.

botocore logs every request it signs at debug level (headers included: the session token travels
as ``X-Amz-Security-Token``), so this is the level where a leak would show. A leak is any 12
characters of a secret, as written or escaped the way JSON, ``repr`` or a URL would write them.
"""

from __future__ import annotations

import json
import urllib.parse
from typing import Any

import pytest

SECRET_KEY = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYzPARADIME0"  # the shape of a real secret key
SESSION_TOKEN = (
    "IQoJb3JpZ2luX2VjEParadime//////////wEaCXVzLWVhc3QtMSJHMEUCIQD+sessionToken/Example"
    "+AiBhvNqvzj2wDRsGHZtnWJ+JTDAw=="
)
KEY_ID = "ASIAPARADIMETEST0001"
WINDOW = 12


def forms(secret: str) -> set[str]:
    """The secret as it could be written out: as is, in a repr of it or of its bytes, each of
    those inside a JSON string, and URL-encoded."""
    plain = {secret, repr(secret)[1:-1], repr(secret.encode())[2:-1]}
    escaped = {json.dumps(form)[1:-1] for form in plain}
    return plain | escaped | {urllib.parse.quote(secret, "")}


def leaks(text: str) -> int:
    """How many 12-character pieces of either secret, in any of its forms, the text holds."""
    found = 0
    for secret in (SECRET_KEY, SESSION_TOKEN):
        for form in forms(secret):
            found += sum(text.count(form[i : i + WINDOW]) for i in range(0, len(form) - WINDOW + 1))
    return found


@pytest.fixture
def workloads(emulators: Any) -> list[list[str]]:
    """One command line per provider, each meeting success and an AWS error."""
    from paradime_aws_stepfunctions.testing import fail_machine, pass_machine

    emulators.functions.create("report")
    passing = emulators.machines.arn("greet", pass_machine())
    failing = emulators.machines.arn("broken", fail_machine())
    emulators.sagemaker.create_pipeline("train")
    emulators.sagemaker.script("train", "Succeeded")
    return [
        [
            "aws-lambda-invoke",
            "--function-name",
            "report,missing-function",
            "--payload",
            '{"day": 1}',
            "--log-type",
            "Tail",
        ],
        ["aws-stepfunctions-start-execution", "--state-machine-arn", f"{passing},{failing}"],
        ["aws-sagemaker-start-pipeline", "--pipeline-name", "train,missing-pipeline"],
        ["aws-stepfunctions-list-state-machines"],
    ]


@pytest.mark.parametrize("log_format", ["json", "console"])
@pytest.mark.parametrize("given_by", ["option", "environment"])
def test_no_secret_in_any_output_at_debug_level(
    given_by, log_format, workloads, spawn, script_env, ledger
):
    credentials = ["--aws-access-key-id", KEY_ID]
    credentials += ["--aws-secret-access-key", SECRET_KEY, "--aws-session-token", SESSION_TOKEN]
    if given_by == "option":
        env = script_env()
        for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
            env.pop(key, None)
        extra = credentials
    else:
        env = script_env(
            AWS_ACCESS_KEY_ID=KEY_ID,
            AWS_SECRET_ACCESS_KEY=SECRET_KEY,
            AWS_SESSION_TOKEN=SESSION_TOKEN,
        )
        extra = []
    debug = ["--log-level", "debug", "--log-format", log_format]
    processes = [spawn(["run", *workload, *extra, *debug], env) for workload in workloads]
    leaked = 0
    for process in processes:
        assert process.finish() in (0, 1), process.stderr
        # Debug logs were on: botocore's signed requests are there, the token's header too.
        assert "x-amz-security-token" in process.stderr.lower()
        assert "Traceback" not in process.stderr
        leaked += leaks(process.stdout) + leaks(process.stderr)
    assert leaked == 0
    ledger.record("8", faults=len(processes), targets=6, duplicates=0, secrets_leaked=leaked)


ODD_SECRET_KEY = 'wJalrXUtnFEMI"K7MDENG\\bPxRfiCYzPARADIME1'
ODD_SESSION_TOKEN = 'IQoJb3JpZ2luX2VjE"quoted"\\back\\slashed/////////wEaCXVzLWVhc3QtMSJHMEU=='


@pytest.mark.parametrize("log_format", ["json", "console"])
def test_secrets_with_characters_that_logs_escape_are_hidden_in_their_escaped_form_too(
    log_format, emulators, run_script, script_env, ledger
):
    """JSON lines write a quote as \\" and a backslash as \\\\, and botocore's debug lines
    show header values as bytes literals: a secret must be hidden however it is written."""
    from paradime_aws_stepfunctions.testing import pass_machine

    arn = emulators.machines.arn("greet", pass_machine())
    env = script_env(
        AWS_ACCESS_KEY_ID=KEY_ID,
        AWS_SECRET_ACCESS_KEY=ODD_SECRET_KEY,
        AWS_SESSION_TOKEN=ODD_SESSION_TOKEN,
    )
    args = ["run", "aws-stepfunctions-start-execution", "--state-machine-arn", arn]
    completed = run_script([*args, "--log-level", "debug", "--log-format", log_format], env)
    assert completed.returncode == 0, completed.stderr
    output = completed.stdout + completed.stderr
    leaked = 0
    for secret in (ODD_SECRET_KEY, ODD_SESSION_TOKEN):
        for form in forms(secret):
            leaked += sum(
                output.count(form[i : i + WINDOW]) for i in range(0, len(form) - WINDOW + 1)
            )
    assert leaked == 0, [line for line in output.splitlines() if "quoted" in line][:3]
    ledger.record("8", faults=1, targets=1, duplicates=0, secrets_leaked=leaked)


# -- credentials that botocore refreshes on its own ---------------------------------------------
ISSUER = """\
import base64, datetime, json, secrets, sys

# A new set on every call, expiring in 12 minutes: inside botocore's 15-minute advisory window,
# so botocore asks for a new set before every request it signs.
secret_key = base64.b64encode(secrets.token_bytes(30)).decode()
token = "IQoJb3JpZ2luX2VjE" + base64.b64encode(secrets.token_bytes(180)).decode()
with open(sys.argv[1], "a", encoding="utf-8") as issued:
    issued.write(json.dumps([secret_key, token]) + "\\n")
expires = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=12)
print(json.dumps({
    "Version": 1,
    "AccessKeyId": "ASIAREFRESHEDKEY0001",
    "SecretAccessKey": secret_key,
    "SessionToken": token,
    "Expiration": expires.isoformat(),
}))
"""


@pytest.fixture
def refreshing_profile(tmp_path: Any, script_env: Any) -> tuple[dict[str, str], Any]:
    """The environment of a console script whose only credentials come from a
    ``credential_process`` profile issuing short-lived sets; and the file listing every set."""
    import sys

    issuer = tmp_path / "issue_credentials.py"
    issuer.write_text(ISSUER)
    issued = tmp_path / "issued.jsonl"
    config = tmp_path / "config"
    config.write_text(
        "[profile refreshing]\nregion = us-east-1\n"
        f"credential_process = {sys.executable} {issuer} {issued}\n"
    )
    env = script_env(AWS_PROFILE="refreshing", AWS_CONFIG_FILE=str(config))
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        env.pop(key, None)
    return env, issued


@pytest.mark.parametrize("log_format", ["json", "console"])
def test_refreshed_credentials_never_appear_at_debug_level(
    log_format, refreshing_profile, workloads, spawn, ledger
):
    env, issued = refreshing_profile
    debug = ["--log-level", "debug", "--log-format", log_format]
    processes = [spawn(["run", *workload, *debug], env) for workload in workloads]
    for process in processes:
        assert process.finish() in (0, 1), process.stderr
        assert "Traceback" not in process.stderr
    sets = [json.loads(line) for line in issued.read_text().splitlines()]
    # Every command went on past its first set, and botocore signed (and logged) with each one.
    assert len(sets) >= 2 * len(processes), len(sets)
    output = "".join(process.stdout + process.stderr for process in processes)
    assert output.lower().count("x-amz-security-token") >= len(sets)
    leaked = 0
    for secret in {value for pair in sets for value in pair}:
        for form in forms(secret):
            leaked += sum(
                output.count(form[i : i + WINDOW]) for i in range(0, len(form) - WINDOW + 1)
            )
    tokens_in_clear = sum(1 for _, token in sets if token in output)
    assert (tokens_in_clear, leaked) == (0, 0), f"{tokens_in_clear} of {len(sets)} tokens in clear"
    assert "ASIAREFRESHEDKEY0001" not in output  # the key id of Credential=... too
    ledger.record("8", faults=len(sets), targets=6, duplicates=0, secrets_leaked=leaked)


# -- passwords in URLs, headers in transport logs ---------------------------------------------
def test_a_url_password_is_masked_in_rows_and_progress(aws_faults: Any, ledger: Any) -> None:
    """``--endpoint-url http://user:pw@host``: the row's error and the retry lines quoted the
    URL whole (before: ``pw`` printed). The password is masked however short, the user stays."""
    from paradime.testing import run_cli

    result = run_cli(
        [
            "run",
            "aws-lambda-invoke",
            "--function-name",
            "report",
            "--endpoint-url",
            "http://robot:pw@127.0.0.1:9",
            "--timeout-minutes",
            "0.02",
            "--json",
        ]
    )
    assert result.exit_code == 1
    out = result.stdout + result.stderr
    assert "http://robot:****@127.0.0.1:9" in out
    assert ":pw@" not in out
    ledger.record("8", faults=1, targets=1, duplicates=0, secrets_leaked=out.count(":pw@"))


@pytest.mark.parametrize("log_format", ["console", "json"])
def test_response_headers_are_not_logged_at_debug_level(
    log_format: str, monkeypatch: pytest.MonkeyPatch, ledger: Any
) -> None:
    """httpcore logs every response header at debug level (before: a ``Set-Cookie`` value
    was printed in both log formats)."""
    from paradime.testing import run_cli
    from paradime_fivetran.testing import FakeFivetran

    cookie = "session=c00kie-value-9d1f"
    answer = FakeFivetran.answer

    def with_cookie(self: Any, request: Any) -> Any:
        answered = answer(self, request)
        if answered is not None:
            answered = (answered[0], answered[1], {**answered[2], "Set-Cookie": cookie})
        return answered

    monkeypatch.setattr(FakeFivetran, "answer", with_cookie)
    with FakeFivetran() as fake:
        fake.add_connector("orders", sync_seconds=0.1)
        args = ["fivetran-sync", "--connector-id", "orders", "--log-level", "debug"]
        result = run_cli(
            ["run", *args, "--log-format", log_format],
            env=fake.env,
        )
    assert result.exit_code == 0, result.stderr
    assert "receive_response_headers" in result.stderr  # the event stays
    assert "c00kie-value" not in result.stdout + result.stderr
    leaked = result.stderr.count("c00kie")
    ledger.record("8", faults=1, targets=1, duplicates=0, secrets_leaked=leaked)


# -- redaction keeps the document ----------------------------------------------------------
def test_redaction_of_a_word_like_secret_keeps_the_commands_words_and_json_keys(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Self-managed Airbyte with its reference credentials, airbyte/password (before: the user
    name was registered as a secret, so stdout read ``"command": "****-sync"`` and the list
    heading ``****-list-connections``; masking the final text rewrote JSON keys and shifted the
    table's columns). The password, a common word, still never appears in a value."""
    import paradime_airbyte.testing
    from paradime.testing import run_cli
    from paradime_airbyte.testing import FakeAirbyte

    monkeypatch.setattr(paradime_airbyte.testing, "CLIENT_ID", "airbyte")
    monkeypatch.setattr(paradime_airbyte.testing, "CLIENT_SECRET", "password")
    with FakeAirbyte(server_auth=True) as fake:
        orders = fake.add_connection("airbyte_password_conn")
        env = {**fake.env, "AIRBYTE_CLIENT_ID": "airbyte", "AIRBYTE_CLIENT_SECRET": "password"}
        common = ["--use-server-auth"]
        synced = run_cli(
            ["run", "airbyte-sync", "--connection-id", orders.connection_id, *common, "--json"],
            env=env,
        )
        table = run_cli(
            ["run", "airbyte-sync", "--connection-id", orders.connection_id, *common], env=env
        )
        listed = run_cli(["run", "airbyte-list-connections", *common, "--json"], env=env)
    assert synced.exit_code == 0, synced.stderr
    document = synced.json
    assert document["command"] == "airbyte-sync"
    row = document["results"][0]
    assert row["target"] == orders.connection_id
    assert "password" not in json.dumps(row)
    assert table.exit_code == 0, table.stderr
    assert "password" not in table.stdout
    [line] = [line for line in table.stdout.splitlines() if line.startswith(orders.connection_id)]
    assert line.split()[1:3] == ["✅", "SUCCESS"]  # the columns in place
    assert listed.exit_code == 0, listed.stderr
    assert "airbyte-list-connections" in listed.stderr
    names = [r.get("name") for r in json.loads(listed.stdout)]
    assert names == ["airbyte_****_conn"]
    assert "password" not in listed.stdout + listed.stderr
