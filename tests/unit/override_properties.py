"""The two promises of the retry overrides, asserted the same way for every source of failures (plain transport,
Google through drive_errors, requests through logiqs_errors)."""

from __future__ import annotations

from mailroom.errors import ErrorClass
from mailroom.resilience import classify
from mailroom.resilience.taxonomy import apply_overrides


def assert_no_override_makes_it_retryable(
    exc: BaseException, status: int, extra_types: list[type[BaseException]], extra_statuses: set[int] | None,
    idempotent: bool,
) -> None:
    """A broken request (400/401/403/404) stays unretryable whatever types and statuses a caller lists."""
    overridden = apply_overrides(
        classify(exc, idempotent=idempotent), exc, retryable_exceptions=tuple(extra_types) + (Exception,),
        retryable_status_codes=frozenset(extra_statuses | {status}) if extra_statuses is not None else None,
    )
    assert not overridden.retryable


def assert_overrides_keep_it_ambiguous(exc: BaseException, extra_statuses: set[int]) -> None:
    """A write that may have landed is never promoted to a retry."""
    c = classify(exc, idempotent=False)
    assert c.error_class is ErrorClass.AMBIGUOUS
    overridden = apply_overrides(c, exc, retryable_exceptions=(Exception,), retryable_status_codes=frozenset(extra_statuses))
    assert overridden.error_class is ErrorClass.AMBIGUOUS
