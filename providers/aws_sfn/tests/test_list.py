"""aws-stepfunctions-list-state-machines: every page, as a table or JSON."""

from __future__ import annotations

import pytest

from paradime_aws_common.testing import aws_error, when

LIST = "aws-stepfunctions-list-state-machines"


@pytest.fixture
def small_pages(monkeypatch: pytest.MonkeyPatch) -> int:
    """Ask for pages of 10 (AWS allows 1000) so that a few dozen machines take several."""
    monkeypatch.setattr("paradime_aws_stepfunctions.runner.LIST_PAGE_SIZE", 10)
    return 10


def test_every_page_is_listed(paradime_cli, machines, asl, aws_faults, small_pages, bodies):
    names = [f"machine-{i:02d}" for i in range(45)]
    for i, name in enumerate(names):
        machines.create(name, asl.passing(), type="EXPRESS" if i % 5 == 0 else "STANDARD")
    result = paradime_cli(["run", LIST, "--json"])
    assert result.exit_code == 0, result.stderr
    rows = result.json
    assert sorted(row["name"] for row in rows) == names
    assert len({row["arn"] for row in rows}) == 45
    assert {row["type"] for row in rows} == {"STANDARD", "EXPRESS"}
    assert all(row["creation_date"][:4].isdigit() for row in rows)
    # moto honours maxResults: five pages of at most ten, each after the previous one's token.
    sent = bodies(aws_faults, "ListStateMachines")
    assert len(sent) == 5
    assert all(body["maxResults"] == small_pages for body in sent)
    assert "nextToken" not in sent[0]
    assert all("nextToken" in body for body in sent[1:])


def test_the_table_shows_name_type_arn_and_creation_date(paradime_cli, machines, asl):
    arn = machines.arn("nightly", asl.passing())
    machines.create("quick", asl.passing(), type="EXPRESS")
    result = paradime_cli(["run", LIST])
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[0].split() == ["NAME", "TYPE", "ARN", "CREATED"]
    nightly = next(line for line in lines if line.startswith("nightly"))
    assert nightly.split()[:3] == ["nightly", "STANDARD", arn]
    assert lines[-1] == "(2 rows)"


def test_an_empty_region_lists_nothing(paradime_cli, aws):
    result = paradime_cli(["run", LIST, "--aws-region", "ap-southeast-2", "--json"])
    assert (result.exit_code, result.json) == (0, [])


def test_a_refused_listing_is_one_error_line_and_exit_one(paradime_cli, aws_faults):
    denied = aws_error("AccessDeniedException", "not authorized to perform ListStateMachines")
    aws_faults.add_rule(when(denied, action="ListStateMachines"))
    result = paradime_cli(["run", LIST])
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines()[-1] == (  # after the heading
        "❌ AWS Error: AccessDeniedException - ListStateMachines: "
        "not authorized to perform ListStateMachines"
    )
