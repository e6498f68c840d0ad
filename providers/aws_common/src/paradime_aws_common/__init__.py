"""AWS plumbing shared by the paradime AWS providers.

This module and :mod:`paradime_aws_common.options` import no boto3, so providers can declare
their commands cheaply; :mod:`paradime_aws_common.session` and :mod:`paradime_aws_common.errors`
import botocore and are used only when a command runs.
"""

from __future__ import annotations

from paradime_aws_common.arn import Arn, parse_arn
from paradime_aws_common.options import AWS_OPTIONS

__all__ = ["AWS_OPTIONS", "Arn", "parse_arn"]
