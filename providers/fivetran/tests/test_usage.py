"""Bad input: one line, exit 2, before any request to Fivetran."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(
    ("args", "env", "expected"),
    [
        ([], {"FIVETRAN_API_KEY": None}, "missing option '--api-key' (or set FIVETRAN_API_KEY)"),
        (
            [],
            {"FIVETRAN_API_SECRET": None},
            "missing option '--api-secret' (or set FIVETRAN_API_SECRET)",
        ),
        (["--base-url", "ftp://x"], {}, "invalid value for '--base-url': 'ftp://x' is not an"),
        (["--connector-id", "a/b"], {}, "'a/b' is not a Fivetran connector id"),
        (["--connector-id", "x,"], {}, "--connector-id: empty target name"),
        (["--timeout-minutes", "0"], {}, "invalid value for '--timeout-minutes'"),
        (["--bogus"], {}, "No such option '--bogus'"),
    ],
)
def test_bad_input_exits_2_before_any_request(fivetran, fivetran_cli, args, env, expected):
    result = fivetran_cli("fivetran-sync", "--connector-id", "orders", *args, env=env)
    assert result.exit_code == 2, result.stderr
    [line] = result.stderr.strip().splitlines()
    assert expected in line
    assert fivetran.requests == []


def test_the_old_connector_ids_spelling_is_accepted_and_merged(fivetran, fivetran_cli):
    fivetran.add_connector("orders")
    fivetran.add_connector("billing")
    result = fivetran_cli(
        "fivetran-sync", "--connector-ids", "orders,billing", "--connector-id", "orders", "--json"
    )
    assert result.exit_code == 0, result.stderr
    assert list(result.statuses) == ["orders", "billing"]
    assert "duplicate target 'orders'" in result.stderr


def test_a_bad_group_id_for_the_list_exits_2_before_any_request(fivetran, fivetran_cli):
    result = fivetran_cli("fivetran-list-connectors", "--group-id", "../x")
    assert result.exit_code == 2
    assert "'../x' is not a Fivetran group id" in result.stderr
    assert fivetran.requests == []


def test_help_shows_the_options_their_variables_and_that_syncs_cannot_be_stopped(fivetran_cli):
    text = fivetran_cli("fivetran-sync", "--help").stdout
    for word in ("--connector-id ID", "FIVETRAN_API_KEY", "FIVETRAN_API_SECRET", "--force"):
        assert word in text
    assert "FIVETRAN_BASE_URL" in text and "https://api.fivetran.com" in text
    assert "--connector-ids" not in text  # hidden alias
    assert "no API to stop a sync" in " ".join(text.split())


def test_help_of_cancel_on_exit_says_it_stops_nothing_here(fivetran_cli):
    text = " ".join(fivetran_cli("fivetran-sync", "--help").stdout.split())
    flag = text[text.index("--cancel-on-exit") : text.index("--json")]
    assert "Stop remote runs" not in flag
    assert "Stops nothing here: fivetran-sync cannot stop its runs." in flag
