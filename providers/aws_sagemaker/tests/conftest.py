"""The SageMaker emulator (moto's gaps closed, executions scripted) for this package's tests.

The patches and the fixtures live in :mod:`paradime_aws_sagemaker.testing`, shared with the tests
that cross packages (``tests/`` at the repository root); ``instant_botocore_retries`` comes from
:mod:`paradime_aws_common.testing`.
"""

from __future__ import annotations

from paradime_aws_sagemaker.testing import pipelines, sagemaker

__all__ = ["pipelines", "sagemaker"]  # fixtures, registered by being imported here
