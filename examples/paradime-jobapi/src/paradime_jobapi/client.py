# The runner and lister core drives, on paradime's HTTP SDK. Each method makes one HTTP call:
# core waits, retries with backoff (honouring Retry-After), reads every list page and keeps the
# deadline; HttpApi maps answers to outcomes; the provider decides what each job document means.

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from paradime.api import Lister, Page, RunContext, RunError, Runner, RunState, idempotency_token
from paradime.api import RunStatus as Status
from paradime_http.auth import BearerAuth
from paradime_http.client import HttpApi
from paradime_http.errors import ConflictError
from paradime_http.pages import cursor_page

STATUSES = {"pending": Status.RUNNING, "running": Status.RUNNING, "failed": Status.FAILED}
STATUSES |= {"succeeded": Status.SUCCEEDED, "cancelled": Status.STOPPED}


def job_state(job: Mapping[str, Any], *, attached: bool = False) -> RunState:
    job_id: Any = str(job["job_id"])
    status = STATUSES.get(job.get("state", ""))
    if status is None:
        raise RunError(f"job {job_id} is in a state paradime does not know: {job.get('state')!r}")
    failure = job.get("error") or {}
    reason = f"{failure.get('code', 'failed')}: {failure.get('message', 'no reason')}"
    error = {Status.FAILED: reason, Status.STOPPED: "the sync was cancelled"}.get(status)
    message = job["state"] if status is Status.RUNNING else None
    found = dict(run_id=job_id, handle=job_id, console_url=job.get("url"), output=job.get("result"))
    return RunState(status, message=message, error=error, attached=attached, **found)


class JobApiClient:
    """What the runner and the lister share: one client per command run, closed at its end."""

    def __init__(self, params: Mapping[str, Any], context: RunContext) -> None:
        self.api = HttpApi(
            params["base_url"],
            service="jobapi",
            product="paradime-example-jobapi",
            credentials="--api-key (JOBAPI_API_KEY)",
            context=context,
            auth=BearerAuth(params["api_key"]),
        )

    def close(self) -> None:
        self.api.close()


class SyncRunner(JobApiClient, Runner):
    def __init__(self, params: Mapping[str, Any], context: RunContext) -> None:
        super().__init__(params, context)
        # Each start carries an Idempotency-Key: the API answers a repeated key with the job it
        # already started (200, not 201), so a start whose answer was lost is safe to repeat.
        # Under --idempotency-key the key is derived from it: a retried command attaches.
        self.attach = context.idempotency_key is not None
        self.run_key = context.idempotency_key or uuid.uuid4().hex

    def trigger(self, target: str) -> RunState:
        key = idempotency_token(self.run_key, target, max_length=255)
        path, doing = f"/v1/connectors/{quote(target, safe='')}/sync", "could not start the sync"
        answer = self.api.request("POST", path, doing=doing, idempotency_key=key)
        return job_state(answer.document, attached=self.attach and answer.status == 200)

    def poll(self, target: str, state: RunState) -> RunState:
        path = f"/v1/jobs/{quote(str(state.handle), safe='')}"
        doing = f"could not read job {state.handle}"
        return job_state(self.api.get(path, doing=doing, run_id=state.run_id))

    def cancel(self, target: str, state: RunState, reason: str) -> RunState:
        path = f"/v1/jobs/{quote(str(state.handle), safe='')}/cancel"
        try:
            return job_state(self.api.post(path, doing="cancel refused", json={"reason": reason}))
        except ConflictError:  # 409: the job ended before the request; how it ended is the answer
            return self.poll(target, state)


class ConnectorLister(JobApiClient, Lister):
    def page(self, token: Any) -> Page:
        return cursor_page(self.api, "/v1/connectors", token, doing="could not list connectors")
