"""AWS plumbing shared by the paradime AWS providers.

This module, :mod:`paradime_aws_common.options` and :mod:`paradime_aws_common.display` import
no boto3, so providers can declare
their commands cheaply; :mod:`paradime_aws_common.session` and :mod:`paradime_aws_common.errors`
import botocore and are used only when a command runs.
"""

from __future__ import annotations

from paradime_aws_common.arn import Arn, parse_arn
from paradime_aws_common.display import aws_display
from paradime_aws_common.options import AWS_OPTIONS

__all__ = ["AWS_OPTIONS", "Arn", "aws_display", "parse_arn"]
