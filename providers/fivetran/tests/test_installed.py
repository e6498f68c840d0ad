"""The installed ``paradime`` console script finds this provider through its entry point, as it
would a third party's, and runs it against the fake API in a separate process."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path


def paradime(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    script = shutil.which("paradime", path=str(Path(sys.executable).parent))
    assert script, "the paradime console script is not installed next to this Python"
    return subprocess.run(
        [script, *args], env={**os.environ, **env}, capture_output=True, text=True, timeout=120
    )


def test_the_provider_is_found_through_its_entry_point(fivetran):
    listing = paradime("providers", "--json", env=fivetran.env)
    assert listing.returncode == 0, listing.stderr
    [provider] = [p for p in json.loads(listing.stdout) if p["name"] == "fivetran"]
    assert provider["distribution"] == "paradime-fivetran"
    assert provider["commands"] == ["fivetran-sync", "fivetran-list-connectors"]
    assert provider["error"] is None
    only = paradime("run", "--help", env={**fivetran.env, "PARADIME_LOAD_PLUGINS": "fivetran"})
    assert "fivetran-sync" in only.stdout and "fivetran-list-connectors" in only.stdout


def test_declaring_the_commands_imports_no_http_client():
    code = (
        "import sys, paradime_fivetran; "
        "print('httpx' in sys.modules, 'paradime_fivetran.runner' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False", "False"]


def test_a_sync_and_a_listing_through_the_console_script(fivetran):
    fivetran.add_connector("orders", sync_seconds=0.2)
    fivetran.add_connector("events", paused=True)
    done = paradime(
        "run", "fivetran-sync", "--connector-id", "orders,events", "--json", env=fivetran.env
    )
    assert done.returncode == 1, done.stderr
    statuses = {r["target"]: r["status"] for r in json.loads(done.stdout)["results"]}
    assert statuses == {"orders": "SUCCEEDED", "events": "ERROR"}
    assert "Traceback" not in done.stderr
    listing = paradime("run", "fivetran-list-connectors", env=fivetran.env)
    assert listing.returncode == 0, listing.stderr
    assert "(2 rows)" in listing.stdout
