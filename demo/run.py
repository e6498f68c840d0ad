"""The demo tour: a local AWS emulator with demo resources, and every installed command run on it.

Starts moto in server mode on 127.0.0.1 (a free port), lets each provider's demo module in this
folder (``demo/aws_*.py``) create its resources, then runs that module's ``TOUR`` commands with
the real ``paradime`` console script, pointed at the emulator with fake credentials. A module
whose provider is not installed is skipped.

    python demo/run.py            # the whole tour
    python demo/run.py --serve    # only start the emulator with the demo resources, print its URL
"""

from __future__ import annotations

import importlib.util
import os
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType

HERE = Path(__file__).resolve().parent


def load_modules(pattern: str = "aws_*.py") -> list[ModuleType]:
    modules = []
    for path in sorted(p for p in HERE.glob(pattern) if p.stem != "run"):
        spec = importlib.util.spec_from_file_location(f"demo_{path.stem}", path)
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        modules.append(module)
    return modules


def provider_installed(module: ModuleType) -> bool:
    return importlib.util.find_spec(module.PROVIDER_PACKAGE) is not None


def main() -> int:
    from paradime_aws_common.testing import AwsEnv, aws_environment, start_moto_server

    moto = start_moto_server()
    server = moto.server
    env = {**os.environ, **aws_environment(moto.url)}
    env.pop("NO_COLOR", None)
    aws = AwsEnv(moto.url, env)

    modules = [m for m in load_modules() if provider_installed(m)]
    for module in modules:
        module.setup(aws)
    # HTTP-API providers' demos (demo/<name>.py with serve()) start their own fake API each.
    served = [
        (module, *module.serve())
        for module in load_modules("*.py")
        if hasattr(module, "serve") and provider_installed(module)
    ]

    if "--serve" in sys.argv:
        print(f"AWS emulator with demo resources at {moto.url} (Ctrl-C to stop)")
        print(
            f"export AWS_ENDPOINT_URL={moto.url} AWS_ACCESS_KEY_ID=demo AWS_SECRET_ACCESS_KEY=demo"
        )
        for module, api_env, _stop in served:
            exports = " ".join(f"{k}={v}" for k, v in api_env.items() if "PROXY" not in k)
            print(f"{module.PROVIDER_PACKAGE}: export {exports}")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            return 0

    paradime = shutil.which("paradime", path=str(Path(sys.executable).parent)) or "paradime"
    tours = [(args, env) for args in (["--version"], ["providers"], ["run", "--help"])]
    for module in modules:
        tours.extend((args, env) for args in module.TOUR)
    for module, api_env, _stop in served:
        tours.extend((args, {**env, **api_env}) for args in module.TOUR)
    failures = []
    for args, tour_env in tours:
        print(f"\n\033[1m$ paradime {shlex.join(args)}\033[0m", flush=True)
        completed = subprocess.run([paradime, *args], env=tour_env, check=False)
        print(f"(exit code {completed.returncode})", flush=True)
        # Some tour commands show a failing run on purpose (exit 1); 2 would be a broken tour.
        if completed.returncode not in (0, 1):
            failures.append((args, completed.returncode))
    server.stop()
    for _module, _env, stop in served:
        stop()
    if failures:
        print(f"\n{len(failures)} demo command(s) ended with an unexpected exit code: {failures}")
        return 1
    print("\nDemo tour finished: every command above ran against a local emulator or fake API.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
