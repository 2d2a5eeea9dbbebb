"""
Publishing, unpublishing, retracting and re-dating a statement, and the admin's save of a
statement's own fields, which may do any of these.

Each is one transaction that first locks the statement and its signers
(derived.lock_for_write), so that two staff writes touching the same organisations wait for
each other, then writes the statement and tells statements.derived what changed: a statement
going public or back changes its signers' counts and the co-signing of each pair of them; a
retraction (still public) or a new date changes nothing derived.
"""

import datetime
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from . import derived
from .models import Signature, Statement


def _lock(statement: Statement) -> tuple[str, datetime.date] | None:
    """Lock the statement and its signers; returns its stored status and date (None if new)."""
    if statement.pk is None:
        return None
    derived.lock_for_write(
        statement_ids=[statement.pk],
        organization_ids=Signature.objects.filter(statement_id=statement.pk).values(
            "organization_id"
        ),
    )
    stored = Statement.objects.filter(pk=statement.pk).values_list("status", "issued_on").first()
    if stored is None:
        raise ValidationError("This statement no longer exists: someone has deleted it.")
    return stored


def _now() -> datetime.datetime:
    return timezone.now().replace(microsecond=0)  # as the admin's form shows it


def _save(statement: Statement, was_public: bool, fields: list[str] | None = None) -> None:
    statement.save(update_fields=[*fields, "updated_at"] if fields else None)
    derived.statement_visibility_changed(
        statement_id=statement.pk, was_public=was_public, is_public=statement.is_public
    )


def publish(*, statement: Statement, at: datetime.datetime | None = None) -> Statement:
    """
    Make the statement public. `published_at` records when: `at`, or now if it was never
    published (a statement published again keeps its first date unless `at` is given).
    """
    with transaction.atomic():
        status, _issued_on = _lock(statement) or (None, None)
        statement.status = Statement.Status.PUBLISHED
        if at is not None or statement.published_at is None:
            statement.published_at = at or _now()
        _save(statement, status in Statement.PUBLIC_STATUSES, ["status", "published_at"])
    return statement


def unpublish(*, statement: Statement) -> Statement:
    """Take the statement back to draft: staff-only again, with its signatures kept."""
    with transaction.atomic():
        status, _issued_on = _lock(statement) or (None, None)
        statement.status = Statement.Status.DRAFT
        _save(statement, status in Statement.PUBLIC_STATUSES, ["status"])
    return statement


def retract(*, statement: Statement, note: str) -> Statement:
    """
    Mark a public statement as retracted: it stays public, with `note` (why and when)
    shown on it. A draft cannot be retracted; unpublish it instead.
    """
    note = note.strip()
    if not note:
        raise ValidationError(
            {"retraction_note": "A retracted statement stays public with this note: say why "
             "and when it was retracted."}
        )  # fmt: skip
    with transaction.atomic():
        status, _issued_on = _lock(statement) or (None, None)
        if status not in Statement.PUBLIC_STATUSES:
            raise ValidationError(
                "Only a public statement can be retracted: this one is a draft (or new). "
                "Nothing was changed."
            )
        statement.status = Statement.Status.RETRACTED
        statement.retraction_note = note
        _save(statement, True, ["status", "retraction_note"])
    return statement


def redate(*, statement: Statement, issued_on: datetime.date) -> Statement:
    """
    Give the statement another issue date. Nothing derived changes: the dates a pair of
    co-signers shared are read from the statements when shown.
    """
    if not isinstance(issued_on, datetime.date) or isinstance(issued_on, datetime.datetime):
        raise ValidationError({"issued_on": "Give the issue date as a date."})
    with transaction.atomic():
        status, _issued_on = _lock(statement) or (None, None)
        statement.issued_on = issued_on
        _save(statement, status in Statement.PUBLIC_STATUSES, ["issued_on"])
    return statement


def save_statement(*, statement: Statement, form_changed: Iterable[str] = ()) -> Statement:
    """
    Save the statement's own fields as staff edited them (the admin's form), working out
    from the stored row whether that publishes, unpublishes, retracts or re-dates it.
    The first time a statement becomes public its `published_at` is set to now, unless
    staff gave it (`form_changed`, the names of the fields the form changed).
    """
    with transaction.atomic():
        stored = _lock(statement)
        was_public = stored is not None and stored[0] in Statement.PUBLIC_STATUSES
        if (
            statement.is_public
            and not was_public
            and statement.published_at is None
            and "published_at" not in set(form_changed)
        ):
            statement.published_at = _now()
        _save(statement, was_public)
    return statement
