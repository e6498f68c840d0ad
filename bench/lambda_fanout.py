"""Wall time to invoke 100 Lambda functions through a slow network, at default concurrency.

    python bench/lambda_fanout.py               # 5 runs of 100 functions, 100 ms added latency
    python bench/lambda_fanout.py --runs 3 --functions 50 --latency 0.2

A moto server on 127.0.0.1 holds the functions; the fault proxy in front of it adds the latency
to every request. Each run is the installed ``paradime`` console script (start-up included)
invoking every function once with RequestResponse. Prints each run, the median, and how many
invocations reached the emulator per run (counted inside moto: it must equal the functions).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

BIN = Path(sys.executable).parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--functions", type=int, default=100)
    parser.add_argument("--latency", type=float, default=0.1, help="seconds added per request")
    args = parser.parse_args()

    from moto.awslambda_simple.models import LambdaSimpleBackend
    from moto.server import ThreadedMotoServer

    from paradime.testing.proxy import FaultProxy
    from paradime_aws_common.testing import AwsEnv, MotoServer, aws_environment

    # Count invocations where the emulator runs them, not where the client sends them.
    seen = {"invocations": 0}
    lock = threading.Lock()
    original = LambdaSimpleBackend.invoke

    def counting_invoke(self: Any, *a: Any, **kw: Any) -> Any:
        with lock:
            seen["invocations"] += 1
        return original(self, *a, **kw)

    LambdaSimpleBackend.invoke = counting_invoke  # type: ignore[method-assign]

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    _, port = server.get_host_and_port()
    moto = MotoServer(f"http://127.0.0.1:{port}", port, server)
    moto.reset()
    aws = AwsEnv(moto.url, aws_environment(moto.url))
    role = aws.client("iam").create_role(RoleName="bench", AssumeRolePolicyDocument="{}")
    client = aws.client("lambda")
    names = [f"bench-{i:03d}" for i in range(args.functions)]
    for name in names:
        client.create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=role["Role"]["Arn"],
            Handler="index.handler",
            Code={"ZipFile": b"PK\x05\x06" + b"\x00" * 18},
        )

    proxy = FaultProxy(moto.url).start()
    proxy.latency_s = args.latency
    env = {**os.environ, **aws_environment(proxy.url)}
    command = [
        str(BIN / "paradime"),
        "run",
        "aws-lambda-invoke",
        "--function-name",
        ",".join(names),
    ]
    command += ["--payload", '{"bench": true}', "--json"]

    times: list[float] = []
    counts: list[int] = []
    for run in range(1, args.runs + 1):
        with lock:
            seen["invocations"] = 0
        started = time.perf_counter()
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        elapsed = time.perf_counter() - started
        statuses = [r["status"] for r in json.loads(done.stdout)["results"]]
        ok = statuses.count("SUCCEEDED")
        times.append(elapsed)
        counts.append(seen["invocations"])
        print(
            f"run {run}: {elapsed:.2f} s, exit {done.returncode}, {ok}/{len(names)} succeeded, "
            f"{seen['invocations']} invocations at the emulator",
            flush=True,
        )
    proxy.stop()
    server.stop()
    print(
        f"median wall time: {statistics.median(times):.2f} s for {len(names)} functions, "
        f"{args.latency * 1000:.0f} ms added per request, default concurrency; "
        f"invocations at the emulator per run: {sorted(set(counts))}"
    )
    return 0 if all(c == len(names) for c in counts) else 1


if __name__ == "__main__":
    sys.exit(main())
