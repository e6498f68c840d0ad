"""The API key and secret never reach stdout or stderr, at any log level, in either log format,
including when Fivetran echoes the key it refused."""

from __future__ import annotations

import base64

import pytest

from paradime_fivetran.testing import FAKE_KEY, FAKE_SECRET


def forms(key: str, secret: str) -> list[str]:
    """The values, and the Basic header that carries them."""
    return [key, secret, base64.b64encode(f"{key}:{secret}".encode()).decode()]


@pytest.mark.parametrize("fmt", ["console", "json"])
def test_key_and_secret_are_absent_at_debug_level(fivetran, fivetran_cli, fmt):
    fivetran.add_connector("orders", sync_seconds=0.2)
    fivetran.add_connector("billing", outcome="failed")
    result = fivetran_cli(
        "fivetran-sync", "--connector-id", "orders,billing", "--log-level", "debug",
        "--log-format", fmt, "--json",
    )  # fmt: skip
    assert result.exit_code == 1
    assert "http request" in result.stderr  # debug lines were written
    output = result.stdout + result.stderr
    for value in forms(FAKE_KEY, FAKE_SECRET):
        assert value not in output


@pytest.mark.parametrize("fmt", ["console", "json"])
def test_a_refused_key_echoed_by_fivetran_is_masked_at_debug_level(fivetran, fivetran_cli, fmt):
    fivetran.add_connector("orders")
    key, secret = "wrong-key-5b1d0c77", "wrong-secret-e3b0c442"
    result = fivetran_cli(
        "fivetran-sync", "--connector-id", "orders", "--log-level", "debug", "--log-format", fmt,
        "--json", env={"FIVETRAN_API_KEY": key, "FIVETRAN_API_SECRET": secret},
    )  # fmt: skip
    assert result.exit_code == 1
    assert "Authentication failed for API key '****'" in result.json["results"][0]["error"]
    output = result.stdout + result.stderr
    for value in forms(key, secret):
        assert value not in output


def test_the_list_command_keeps_them_out_too(fivetran, fivetran_cli):
    fivetran.add_connector("orders")
    result = fivetran_cli("fivetran-list-connectors", "--log-level", "debug", "--json")
    assert result.exit_code == 0, result.stderr
    for value in forms(FAKE_KEY, FAKE_SECRET):
        assert value not in result.stdout + result.stderr
