"""The newcomer's first screen: ``python3 dev.py demo`` runs every command of the tour and shows
only what paradime prints (no traceback, no emulator diagnostics)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

DEMO = Path(__file__).resolve().parents[1] / "demo" / "run.py"


def test_the_demo_tour_runs_every_command_and_shows_only_the_products_output():
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    done = subprocess.run(
        [sys.executable, str(DEMO)], capture_output=True, text=True, env=env, timeout=300
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-3000:]
    assert "unexpected exit code" not in output
    assert output.count("$ paradime run ") >= 6  # every provider's commands were run
    for noise in ("Traceback", "Exception=", "moto.", "werkzeug"):
        assert noise not in output, f"{noise!r} in the demo's output"
