"""The one-line ``Error:`` messages of list commands and usage errors are redacted too: remote
APIs echo a rejected key in their error text, and providers pass that text on."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from paradime.api import (
    Column,
    ListCommand,
    Lister,
    Option,
    RunContext,
    RunError,
    UsageError,
    hookimpl,
)
from paradime.testing import registered, run_cli

SECRET = "key-4d9e2b7c-never-printed"


class EchoingLister(Lister):
    def __init__(self, params: Mapping[str, Any]) -> None:
        self.params = params

    def list(self) -> list[Mapping[str, Any]]:
        how = self.params["fail"]
        if how == "run-error":
            raise RunError(f"HTTP 401: invalid key '{self.params['key']}'")
        raise ValueError(f"bad key {self.params['key']}")


class EchoingProvider:
    __name__ = "echoing"

    @staticmethod
    def factory(params: Mapping[str, Any], context: RunContext) -> Lister:
        if params["fail"] == "usage":
            raise UsageError(f"key '{params['key']}' has the wrong shape")
        return EchoingLister(params)

    @hookimpl
    def paradime_register_commands(self, register: Any) -> None:
        register(
            ListCommand(
                name="echoing-list",
                help="List, and fail repeating the key.",
                provider="echoing",
                columns=(Column("name", "NAME"),),
                factory=self.factory,
                options=(Option("--key", "A key.", secret=True), Option("--fail", "How.")),
            )
        )


@pytest.mark.parametrize(("fail", "code"), [("run-error", 1), ("other", 1), ("usage", 2)])
def test_list_command_error_lines_never_show_a_secret(fail, code):
    with registered(EchoingProvider()):
        result = run_cli(["run", "echoing-list", "--key", SECRET, "--fail", fail])
    assert result.exit_code == code
    # After the list's heading (none for a usage error), one error line.
    assert result.stderr.strip().splitlines()[-1].startswith("Error: ")
    assert sum(line.startswith("Error: ") for line in result.stderr.splitlines()) == 1
    assert "****" in result.stderr
    assert SECRET not in result.stderr + result.stdout
