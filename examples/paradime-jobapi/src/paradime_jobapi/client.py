"""The job API over HTTP (standard library only) and the runner and lister core drives.

Each method makes one HTTP call and returns: core's engine does the waiting, the retrying with
backoff, the concurrency and the deadline. What the provider decides is what each answer means.
"""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import quote, urlencode

from paradime.api import Lister, RunError, Runner, RunState, RunStatus

STATUSES = {
    "pending": RunStatus.RUNNING,
    "running": RunStatus.RUNNING,
    "succeeded": RunStatus.SUCCEEDED,
    "failed": RunStatus.FAILED,
    "cancelled": RunStatus.STOPPED,
}


class ApiError(Exception):
    """An HTTP error answer (``status``), or no answer at all (``status`` is None)."""

    def __init__(self, status: int | None, message: str) -> None:
        super().__init__(message)
        self.status = status

    @property
    def transient(self) -> bool:
        """Worth repeating: throttled, a server fault, or the network."""
        return self.status is None or self.status == 429 or self.status >= 500

    def run_error(self, doing: str, *, retryable: bool, run_id: str | None = None) -> RunError:
        status = RunStatus.THROTTLED if self.status == 429 else RunStatus.ERROR
        return RunError(f"{doing}: {self}", status=status, retryable=retryable, run_id=run_id)


class JobApi:
    """A thin client: one method call is one HTTP request, with no retries of its own."""

    def __init__(self, base_url: str, api_key: str, timeout_s: float = 30.0) -> None:
        self.base_url = base_url
        self.api_key = api_key
        self.timeout_s = timeout_s

    def call(
        self, method: str, path: str, body: Any = None, headers: Mapping[str, str] | None = None
    ) -> Any:
        request = urllib.request.Request(
            self.base_url + path,
            method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={
                "Authorization": f"Bearer {self.api_key}",
                "Accept": "application/json",
                "Content-Type": "application/json",
                **(headers or {}),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                return json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            raise ApiError(exc.code, _error_text(exc)) from None
        except (OSError, http.client.HTTPException, ValueError) as exc:
            reason = getattr(exc, "reason", None) or exc
            raise ApiError(None, f"no answer from {self.base_url}: {reason}") from None


def _error_text(exc: urllib.error.HTTPError) -> str:
    """``HTTP 404 not_found: connector 'x' not found`` from the API's error document."""
    try:
        error = json.loads(exc.read())["error"]
        return f"HTTP {exc.code} {error['code']}: {error['message']}"
    except (ValueError, KeyError, TypeError, OSError):
        return f"HTTP {exc.code} {exc.reason}"


def job_state(job: Mapping[str, Any]) -> RunState:
    """What a job document means as a run state."""
    job_id = str(job["job_id"])
    status = STATUSES.get(job.get("state", ""))
    if status is None:
        raise RunError(f"job {job_id} is in a state paradime does not know: {job.get('state')!r}")
    error = None
    if status is RunStatus.FAILED:
        failure = job.get("error") or {}
        error = f"{failure.get('code', 'failed')}: {failure.get('message', 'no reason given')}"
    elif status is RunStatus.STOPPED:
        error = "the sync was cancelled"
    return RunState(
        status,
        run_id=job_id,
        handle=job_id,
        console_url=job.get("url"),
        message=job["state"] if status is RunStatus.RUNNING else None,
        output=job.get("result"),
        error=error,
    )


class SyncRunner(Runner):
    """Starts connector syncs and follows their jobs."""

    def __init__(self, api: JobApi) -> None:
        self.api = api
        # Sent as Idempotency-Key with the connector id: the API answers a repeated start with
        # the job it already started, so a start that failed in transit is safe to retry.
        self.run_key = uuid.uuid4().hex

    def trigger(self, target: str) -> RunState:
        try:
            job = self.api.call(
                "POST",
                f"/v1/connectors/{quote(target, safe='')}/sync",
                headers={"Idempotency-Key": f"{self.run_key}-{target}"},
            )
        except ApiError as exc:
            raise exc.run_error("could not start the sync", retryable=exc.transient) from None
        return job_state(job)

    def poll(self, target: str, state: RunState) -> RunState:
        try:
            job = self.api.call("GET", f"/v1/jobs/{quote(state.handle, safe='')}")
        except ApiError as exc:
            raise exc.run_error(
                f"could not read job {state.handle}", retryable=exc.transient, run_id=state.run_id
            ) from None
        return job_state(job)

    def cancel(self, target: str, state: RunState, reason: str) -> RunState:
        try:
            job = self.api.call(
                "POST", f"/v1/jobs/{quote(state.handle, safe='')}/cancel", {"reason": reason}
            )
        except ApiError as exc:
            raise exc.run_error("cancel refused", retryable=False, run_id=state.run_id) from None
        return job_state(job)


class ConnectorLister(Lister):
    """Every connector, page by page."""

    def __init__(self, api: JobApi) -> None:
        self.api = api

    def list(self) -> Iterator[Mapping[str, Any]]:
        cursor = None
        while True:
            query = f"?{urlencode({'cursor': cursor})}" if cursor else ""
            try:
                page = self.api.call("GET", f"/v1/connectors{query}")
            except ApiError as exc:
                raise exc.run_error("could not list connectors", retryable=False) from None
            yield from page["items"]
            cursor = page.get("next_cursor")
            if not cursor:
                return
