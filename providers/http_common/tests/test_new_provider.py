"""A new provider for a dbt Cloud-style job API, written here from paradime's public plugin API
and HTTP SDK alone (checked: no private name imported), run through the CLI against a fake of
the API built on the SDK's fake base.

The API: ``Authorization: Token <key>``; ``POST /api/v2/jobs/{id}/run/`` starts a run,
``GET /api/v2/runs/{id}/`` reads it, ``POST /api/v2/runs/{id}/cancel/`` stops it,
``GET /api/v2/jobs/?offset=&limit=`` lists jobs; errors read
``{"status": {"code": 400, "user_message": "..."}, "data": null}``.
"""

from __future__ import annotations

import ast
import importlib
import itertools
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from paradime.api import (
    Column,
    Command,
    ListCommand,
    Lister,
    Option,
    RunContext,
    Runner,
    RunState,
    RunStatus,
    TargetOption,
    TriggerCommand,
    hookimpl,
)
from paradime_http.auth import HeaderAuth
from paradime_http.client import HttpApi
from paradime_http.errors import words_at
from paradime_http.fake import FakeHttpApi, Seen
from paradime_http.options import base_url_option
from paradime_http.pages import offset_pages

KEY = "dbtc-key-8a1f44e09b7c"

# -- the provider: declarations, runner, lister ------------------------------------------------
STATES = {1: RunStatus.RUNNING, 2: RunStatus.RUNNING, 3: RunStatus.RUNNING}
STATES |= {10: RunStatus.SUCCEEDED, 20: RunStatus.FAILED, 30: RunStatus.STOPPED}
OPTIONS = (
    base_url_option("JOBSCLOUD_BASE_URL"),
    Option("--api-token", "API token.", envvar="JOBSCLOUD_API_TOKEN", secret=True, required=True),
)


def jobs_cloud(params: Mapping[str, Any], context: RunContext) -> HttpApi:
    return HttpApi(
        params["base_url"],
        service="Jobs Cloud",
        product="paradime-jobscloud/0.1",
        credentials="--api-token (JOBSCLOUD_API_TOKEN)",
        context=context,
        auth=HeaderAuth(params["api_token"], scheme="Token"),
        error_words=words_at("status.user_message"),
    )


def run_state(run: Mapping[str, Any]) -> RunState:
    status = STATES[run["status"]]
    error = run.get("status_message") if status is RunStatus.FAILED else None
    return RunState(status, run_id=str(run["id"]), handle=str(run["id"]), error=error)


class JobRunner(Runner):
    def __init__(self, params: Mapping[str, Any], context: RunContext) -> None:
        self.api = jobs_cloud(params, context)

    def trigger(self, target: str) -> RunState:
        body = {"cause": "Triggered by paradime"}
        run = self.api.post(f"/api/v2/jobs/{target}/run/", doing="could not start", json=body)
        return run_state(run["data"])

    def poll(self, target: str, state: RunState) -> RunState:
        return run_state(self.api.get(f"/api/v2/runs/{state.handle}/", doing="read")["data"])

    def cancel(self, target: str, state: RunState, reason: str) -> RunState:
        return run_state(
            self.api.post(f"/api/v2/runs/{state.handle}/cancel/", doing="stop")["data"]
        )

    def close(self) -> None:
        self.api.close()


class JobLister(Lister):
    def __init__(self, params: Mapping[str, Any], context: RunContext) -> None:
        self.api = jobs_cloud(params, context)

    def list(self) -> Iterator[Mapping[str, Any]]:
        with self.api:
            yield from offset_pages(self.api, "/api/v2/jobs/", doing="list", items="data", limit=2)


class JobsCloudProvider:
    @hookimpl
    def paradime_register_commands(self, register: Callable[[Command], None]) -> None:
        target = TargetOption("--job-id", "Job to run.", metavar="ID")
        register(TriggerCommand(name="jobscloud-run", help="Run jobs.", service="jobscloud",
                                target=target, options=OPTIONS, factory=JobRunner))  # fmt: skip
        columns = (Column("id", "JOB ID"), Column("name", "NAME"))
        register(ListCommand(name="jobscloud-list", help="List jobs.", columns=columns,
                             options=OPTIONS, factory=JobLister))  # fmt: skip


# -- the fake API, on the SDK's fake base ------------------------------------------------------
class FakeJobsCloud(FakeHttpApi):
    service = "Jobs Cloud"

    def __init__(self) -> None:
        super().__init__(credentials=f"Token {KEY}")
        self.jobs = {str(n): {"id": n, "name": f"job {n}", "outcome": 10} for n in range(1, 6)}
        self.runs: dict[str, dict[str, Any]] = {}
        self.ids = itertools.count(100)

    def error_document(self, status: int, message: str) -> Any:
        return {"status": {"code": status, "is_success": False, "user_message": message}}

    def route(self, request: Seen) -> tuple[int, Any]:
        parts = request.path.strip("/").split("/")[2:]
        if parts == ["jobs"]:
            offset, limit = int(request.query["offset"]), int(request.query["limit"])
            jobs = [{"id": j["id"], "name": j["name"]} for j in self.jobs.values()]
            return 200, {"data": jobs[offset : offset + limit]}
        if parts[0] == "jobs" and parts[2:] == ["run"]:
            job = self.jobs.get(parts[1])
            if job is None:
                return 404, self.error_document(404, f"Job {parts[1]} does not exist.")
            if job["outcome"] == 400:
                return 400, self.error_document(400, "Job is deactivated; reactivate it first.")
            run = {"id": next(self.ids), "job": job, "status": 1, "polls": 0}
            self.runs[str(run["id"])] = run
            return 200, {"data": self.public(run)}
        run = self.runs[parts[1]]
        if parts[2:] == ["cancel"]:
            run["status"] = 30
        elif run["status"] < 10:
            run["status"] = run["job"]["outcome"]
        return 200, {"data": self.public(run)}

    def public(self, run: dict[str, Any]) -> dict[str, Any]:
        message = "Database Error in model orders" if run["status"] == 20 else None
        return {"id": run["id"], "status": run["status"], "status_message": message}


@pytest.fixture
def fake() -> Iterator[FakeJobsCloud]:
    with FakeJobsCloud() as api:
        yield api


@pytest.fixture
def cli(fake, paradime_register, paradime_cli, fast_polling):
    paradime_register(JobsCloudProvider())
    env = {**fake.env, "JOBSCLOUD_BASE_URL": fake.url, "JOBSCLOUD_API_TOKEN": KEY}
    return lambda *args: paradime_cli(["run", *args, "--json"], env=env)


# -- the provider through the CLI --------------------------------------------------------------
def test_a_run_that_succeeds_sends_the_token_header(fake, cli):
    result = cli("jobscloud-run", "--job-id", "1")
    assert result.exit_code == 0, result.stderr
    assert result.statuses == {"1": "SUCCEEDED"}
    assert {r.headers["authorization"] for r in fake.requests} == {f"Token {KEY}"}


def test_a_failed_run_and_a_refused_start_carry_the_services_message(fake, cli):
    fake.jobs["2"]["outcome"] = 20
    fake.jobs["3"]["outcome"] = 400
    result = cli("jobscloud-run", "--job-id", "2,3")
    assert result.exit_code == 1
    failed, refused = result.json["results"]
    assert (failed["status"], failed["error"]) == ("FAILED", "Database Error in model orders")
    assert refused["status"] == "ERROR"
    assert "HTTP 400 Job is deactivated; reactivate it first." in refused["error"]


def test_a_throttled_start_waits_as_retry_after_says_and_starts_once(fake, cli):
    fake.fail(429, method="POST", path=r"/api/v2/jobs/1/run/", retry_after=1)
    result = cli("jobscloud-run", "--job-id", "1")
    assert result.exit_code == 0, result.stderr
    assert fake.count("POST", r"/api/v2/jobs/1/run/") == 2
    assert len(fake.runs) == 1
    assert "Jobs Cloud asked to retry after 1s" in result.stderr


def test_a_start_whose_answer_is_lost_is_not_repeated(fake, cli):
    fake.lose_answers(method="POST", path=r"/api/v2/jobs/1/run/", status=502)
    result = cli("jobscloud-run", "--job-id", "1")
    assert result.exit_code == 1
    assert (
        "may have acted on the request, so it is not repeated" in result.json["results"][0]["error"]
    )
    assert fake.count("POST") == 1 and len(fake.runs) == 1


def test_the_list_reads_every_page(fake, cli):
    result = cli("jobscloud-list")
    assert result.exit_code == 0, result.stderr
    assert [row["id"] for row in result.json] == [1, 2, 3, 4, 5]
    assert [r.query["offset"] for r in fake.seen("GET")] == ["0", "2", "4"]


def test_cancel_on_exit_stops_the_run_at_the_timeout(fake, cli):
    fake.jobs["1"]["outcome"] = 3  # running for ever
    result = cli("jobscloud-run", "--job-id", "1", "--timeout-minutes", "0.01", "--cancel-on-exit")
    assert result.exit_code == 1
    assert result.statuses == {"1": "TIMED_OUT"}
    assert fake.count("POST", r"/api/v2/runs/\d+/cancel/") == 1
    assert [run["status"] for run in fake.runs.values()] == [30]


def test_the_token_is_absent_at_debug_level_even_when_echoed(fake, cli):
    fake.unauthorized_message = lambda request: f"Invalid token {request.token('Token')}"
    fake.credentials = "Token another"
    for fmt in ("console", "json"):
        result = cli("jobscloud-run", "--job-id", "1", "--log-level", "debug", "--log-format", fmt)
        assert result.exit_code == 1
        assert "Invalid token ****" in result.json["results"][0]["error"]
        assert KEY not in result.stdout + result.stderr
        assert "http request" in result.stderr  # the debug lines were written


def test_the_provider_imports_only_public_names():
    tree = ast.parse(Path(__file__).read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("paradime"):
            assert not any(part.startswith("_") for part in node.module.split("."))
            module = importlib.import_module(node.module)
            public = getattr(module, "__all__", None)
            for alias in node.names:
                assert not alias.name.startswith("_"), (node.module, alias.name)
                if node.module.startswith("paradime_http"):
                    assert alias.name in public, f"{node.module}.{alias.name} is not public"


def test_the_provider_is_under_150_lines():
    source = Path(__file__).read_text(encoding="utf-8")
    imports = source.split("import pytest")[1].split("KEY = ")[0]
    provider = imports + source.split("# -- the provider: ")[1].split("# -- the fake API")[0]
    lines = [line for line in provider.splitlines() if line.strip() and line.strip()[0] != "#"]
    assert len(lines) <= 150
