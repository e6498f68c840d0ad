"""Internal: what a ``paradime run`` list command does when it runs.

Its options are read as a trigger command's are (:mod:`paradime.runs`); then its lister is
built and read page after page (:func:`read_list`: a page that failed retryably is read again,
a list that cannot be read whole is an error, never a partial table), and the rows are printed.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from typing import Any

from paradime.api import ListCommand, Lister, RunError, SetupError, TriggerCommand, UsageError
from paradime.runs import (
    CommonSettings,
    collect_garbage_from_now_on,
    echo_error,
    parse_options,
    run_context,
    usage_exit,
)

# A list page that failed retryably (throttled, 5xx, answer lost) is read again with backoff,
# up to this many attempts in a row and within this budget for the whole list.
LIST_PAGE_ATTEMPTS = 6
LIST_BUDGET_S = 120.0
LIST_BACKOFF_S = 1.0


def read_list(
    lister: Lister,
    logger: Any,
    *,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    rng: random.Random | None = None,
) -> list[Mapping[str, Any]]:
    """Every row of a list: page after page, a page that failed retryably read again after a
    backoff (at least its ``Retry-After``). A list that cannot be read whole is an error,
    never a partial table. A lister written against 7.x (``list`` alone) is read as it is."""
    if type(lister).page is Lister.page:
        return list(lister.list())
    rng = rng or random.Random()
    rows: list[Mapping[str, Any]] = []
    token: Any = None
    failures = 0
    give_up_at = clock() + LIST_BUDGET_S
    while True:
        try:
            page = lister.page(token)
        except RunError as exc:
            if not exc.retryable:
                raise
            failures += 1
            delay = LIST_BACKOFF_S * 2 ** (failures - 1) * (0.5 + rng.random())
            delay = max(delay, exc.retry_after_s or 0.0)
            if failures >= LIST_PAGE_ATTEMPTS or clock() + delay > give_up_at:
                raise RunError(
                    f"{exc.message} ({failures} attempts at one page; the list is incomplete, "
                    "so none of it is shown)",
                    status=exc.status,
                    details=exc.details,
                ) from None
            logger.warning(f"{exc.message}: reading the page again in {delay:.1f} s")
            sleep(delay)
            continue
        failures = 0
        rows.extend(page.rows)
        if page.next is None:
            return rows
        token = page.next


def run_list(command: ListCommand, values: Mapping[str, Any]) -> int:
    """Run a list command from its click values; returns the exit code."""
    from paradime import log
    from paradime.output import ListReporter
    from paradime.results import print_rows

    log.configure(values.get("log_level"), values.get("log_format"))
    logger = log.get_logger(command=command.name)
    reporter = ListReporter(command.name, command.display)
    try:
        settings = CommonSettings.of(values, trigger=False)
        params = parse_options(command.options, values)
        lister = command.factory(
            params, run_context(command.name, settings, logger, command.options)
        )
    except UsageError as exc:
        return usage_exit(exc)
    except SetupError as exc:
        echo_error(str(exc))
        return 1
    collect_garbage_from_now_on()
    reporter.heading()
    started = time.monotonic()
    try:
        rows = read_list(lister, logger)
        if command.sort_by is not None:
            key = command.sort_by
            rows.sort(key=lambda row: (row.get(key) is None, str(row.get(key) or "")))
    except RunError as exc:
        _list_error(command, exc)
        return 1
    except Exception as exc:
        logger.debug("unexpected error", exc_info=exc)
        echo_error(f"{type(exc).__name__}: {exc}")
        return 1
    finally:
        try:
            lister.close()
        except Exception as exc:  # closing must not change the outcome
            logger.debug("lister close failed", error=str(exc))
    reporter.found(len(rows), time.monotonic() - started)
    print_rows(command.columns, rows, as_json=settings.json_output)
    return log.OUTPUT_LOST_EXIT if log.report_lost_output() else 0


def _list_error(command: ListCommand, exc: RunError) -> None:
    """A list command's failure in the words of its provider's trigger rows when the error has
    a code (``❌ AWS Error: AccessDenied - ListFunctions: ...``); else ``Error: <message>``."""
    from paradime import log
    from paradime.plugins import get_manager

    for other in get_manager().commands.values():
        if not isinstance(other, TriggerCommand) or other.provider != command.provider:
            continue
        key = other.display.error_code_key
        code = exc.details.get(key) if key else None
        if code:
            detail = " ".join(exc.message.replace(f"{code}: ", "", 1).split())
            log.write_error(f"❌ {other.display.error_label}: {code} - {detail}")
            return
    echo_error(exc.message)
