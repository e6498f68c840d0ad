"""The console words the AWS trigger commands share, declared once.

Each AWS provider adds its own (heading, trigger lines, results title, first column) with
:func:`aws_display`; failures read ``AWS Error: <code>`` from the ``aws_error_code`` detail that
:func:`paradime_aws_common.errors.to_run_error` records.
"""

from __future__ import annotations

from typing import Any

from paradime.api import TriggerDisplay


def aws_display(**words: Any) -> TriggerDisplay:
    """A :class:`~paradime.api.TriggerDisplay` with the AWS error label and timeout line."""
    shared: dict[str, Any] = {
        "error_label": "AWS Error",
        "error_code_key": "aws_error_code",
        "timeout": "Timeout waiting for execution to complete after {minutes} minutes",
    }
    return TriggerDisplay(**{**shared, **words})
