"""The client secret, the access tokens and the encoded Basic credentials never appear in any
output, at debug level, in console and JSON log formats, given by option or environment, even
when Airbyte echoes a rejected token in its error."""

from __future__ import annotations

import base64

import pytest

from paradime_airbyte import LIST_COMMAND, TRIGGER_COMMAND
from paradime_airbyte.testing import CLIENT_ID, CLIENT_SECRET

WINDOW = 12


def pieces(secret: str) -> set[str]:
    return {secret[i : i + WINDOW] for i in range(len(secret) - WINDOW + 1)}


@pytest.mark.parametrize("log_format", ["console", "json"])
@pytest.mark.parametrize("given_by", ["option", "environment"])
def test_no_secret_in_any_output_at_debug_level(given_by, log_format, airbyte_fakes, airbyte):
    cloud, server = airbyte_fakes(expires_in=1), airbyte_fakes(server_auth=True)
    short = (("running", 0.3),)
    ok = cloud.add_connection("ok", script=short).connection_id
    broken = cloud.add_connection("broken", outcome="failed", script=short).connection_id
    on_server = server.add_connection("on-server").connection_id
    flags = ["--log-level", "debug", "--log-format", log_format]
    env: dict[str, str | None] = {}
    if given_by == "option":
        flags += ["--client-secret", CLIENT_SECRET]
        env["AIRBYTE_CLIENT_SECRET"] = None
    outputs = []
    for api, args in (
        (cloud, [TRIGGER_COMMAND.name, "--connection-id", f"{ok},{broken}", "--json"]),
        (cloud, [LIST_COMMAND.name]),
        (server, [TRIGGER_COMMAND.name, "--connection-id", on_server, "--use-server-auth"]),
    ):
        result = airbyte(api, *args, *flags, env=env)
        assert result.exit_code in (0, 1), result.stderr
        outputs.append(result.stdout + result.stderr)
    cloud.reject_tokens = True  # Airbyte answers 401 and echoes the token it refused
    rejected = airbyte(
        cloud, TRIGGER_COMMAND.name, "--connection-id", ok, "--json", *flags, env=env
    )
    assert "invalid or expired token '****'" in rejected.json["results"][0]["error"]
    outputs.append(rejected.stdout + rejected.stderr)
    text = "\n".join(outputs)
    assert "send_request_headers" in text  # httpcore's debug lines were written
    basic = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    secrets = [CLIENT_SECRET, basic, *(token.value for token in cloud.tokens)]
    assert len(cloud.tokens) >= 3  # several tokens were issued and used
    leaked = [piece for secret in secrets for piece in pieces(secret) if piece in text]
    assert leaked == []
