"""Every test of this package runs against the patched Lambda emulator.

The patches and the fixtures live in :mod:`paradime_aws_lambda.testing`, shared with the tests
that cross packages (``tests/`` at the repository root).
"""

from __future__ import annotations

import pytest

from paradime_aws_lambda.testing import LambdaEmulator, functions, lambda_emulator

__all__ = ["functions", "lambda_emulator"]  # fixtures, registered by being imported here


@pytest.fixture(autouse=True)
def _lambda_patched(lambda_emulator: LambdaEmulator) -> None:
    """moto's Lambda gaps closed for each test, whether it names the fixture or not."""
