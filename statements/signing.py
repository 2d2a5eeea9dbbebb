"""
Writing signatures: adding one, a list (pasted, uploaded or entered in the admin), editing,
moving, withdrawing and removing them.

Each function is one transaction that does the same three things in the same order: lock
what the write touches, in the one order every write of the product uses (derived.
lock_for_write: the statements, then the organisations); write the rows; bring what is
derived from the signatures (counts, co-signing) up to date for the organisations whose
signatures came or went (derived.signatures_added / signatures_removed).

Lists are read and written in bulk (one INSERT for the rows, one for their history): adding
900 signatures costs the same number of queries as adding 9. Reads drop the models' default
ordering (order_by()): a signature's sorts by its statement's date, a join for nothing.

Bad input raises SigningError, naming the organisation, before anything is written.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from organizations.models import Organization
from tracker.restore import delete_recorded

from . import derived
from .models import Signature, Statement

# What update_signature may change; the statement and organisation change by moving.
EDITABLE = ("role", "name_as_printed", "position", "joined_on", "withdrawn_on", "withdrawal_reason")


class SigningError(ValidationError):
    """
    A signature that cannot be written as asked; nothing was written. `by_row` holds the
    message for each row of a list that has one, by its index in the list.
    """

    def __init__(self, messages, *, by_row: dict[int, str] | None = None):
        super().__init__(messages)
        self.by_row = by_row or {}


@dataclass(frozen=True)
class NewSignature:
    """One signature to add: blank dates and position take the defaults add_signatures gives."""

    organization: Organization
    role: str = Signature.Role.SIGNATORY
    name_as_printed: str = ""
    position: int | None = None  # None: after the statement's last signature, in list order
    joined_on: datetime.date | None = None  # None: the statement's issue date
    withdrawn_on: datetime.date | None = None
    withdrawal_reason: str = ""


def add_signature(
    *,
    statement: Statement,
    organization: Organization,
    reason: str = "",
    user=None,
    **fields,
) -> Signature:
    """Add `organization`'s signature to `statement` (see add_signatures)."""
    unknown = set(fields) - set(EDITABLE)
    if unknown:
        raise TypeError(f"add_signature() got unexpected fields: {', '.join(sorted(unknown))}")
    (signature,) = add_signatures(
        statement=statement,
        rows=[NewSignature(organization=organization, **fields)],
        reason=reason,
        user=user,
    )
    return signature


def add_signatures(
    *,
    statement: Statement,
    rows: Sequence[NewSignature],
    reason: str = "",
    user=None,
) -> list[Signature]:
    """
    Add a signature to `statement` for each row, in one transaction, and return them saved.
    A row without a position goes after the statement's last signature (rows in their
    order); without a date joined, it joined on the statement's issue date. An organisation
    that has already signed, or appears twice, or does not exist, is an error for the whole
    list. `reason` and `user` go into each row's history.
    """
    signatures = [
        Signature(
            statement=statement,
            organization=row.organization,
            role=row.role,
            name_as_printed=row.name_as_printed,
            position=row.position,
            joined_on=row.joined_on,
            withdrawn_on=row.withdrawn_on,
            withdrawal_reason=row.withdrawal_reason,
        )
        for row in rows
    ]
    if not signatures:
        return []
    with transaction.atomic():
        derived.lock_for_write(
            statement_ids=[statement.pk],
            organization_ids=sorted({s.organization_id for s in signatures if s.organization_id}),
        )
        _insert(statement, signatures, reason=reason, user=user)
        derived.signatures_added(
            statement_id=statement.pk, organization_ids=[s.organization_id for s in signatures]
        )
    return signatures


def update_signature(*, signature: Signature, reason: str = "", user=None, **fields) -> Signature:
    """
    Change a signature's own fields (EDITABLE: role, printed name, position, dates,
    withdrawal reason). Its statement and organisation change with move_signature.
    """
    unknown = set(fields) - set(EDITABLE)
    if unknown:
        raise TypeError(
            f"update_signature() cannot change {', '.join(sorted(unknown))}"
            + (": use move_signature" if unknown & {"statement", "organization"} else "")
        )
    with transaction.atomic():
        derived.lock_for_write(
            statement_ids=[signature.statement_id], organization_ids=[signature.organization_id]
        )
        for name, value in fields.items():
            setattr(signature, name, value)
        if signature.joined_on is None:
            signature.joined_on = _issued_on([signature.statement_id])[signature.statement_id]
        _check(signature)
        _set_history(signature, reason, user)
        signature.save(update_fields=list(fields) or None)
    return signature


def move_signature(
    *,
    signature: Signature,
    statement: Statement | None = None,
    organization: Organization | None = None,
    reason: str = "",
    user=None,
) -> Signature:
    """
    Move a signature to another statement, or give it to another organisation (a list read
    wrong), keeping its role, printed name and dates. On another statement it goes after
    that statement's last signature.
    """
    stored = (
        Signature.objects.filter(pk=signature.pk)
        .order_by()
        .values_list("statement_id", "organization_id")
        .first()
    )
    if stored is None:
        raise SigningError("This signature no longer exists.")
    old_statement_id, old_organization_id = stored
    new_statement_id = statement.pk if statement is not None else old_statement_id
    new_organization_id = organization.pk if organization is not None else old_organization_id
    if (new_statement_id, new_organization_id) == stored:
        return signature
    with transaction.atomic():
        derived.lock_for_write(
            statement_ids=sorted({old_statement_id, new_statement_id}),
            organization_ids=sorted({old_organization_id, new_organization_id}),
        )
        if Signature.objects.filter(pk=signature.pk).order_by().values_list(
            "statement_id", "organization_id"
        ).first() != (old_statement_id, old_organization_id):
            raise SigningError("This signature was changed while you were moving it: try again.")
        _check_organizations_exist([new_organization_id])
        _check_not_signed(new_statement_id, new_organization_id)
        if new_statement_id != old_statement_id:
            signature.statement_id = new_statement_id
            if statement is not None:
                signature.statement = statement
            signature.position = _last_position(new_statement_id) + 1
        signature.organization_id = new_organization_id
        if organization is not None:
            signature.organization = organization
        _check(signature)
        _set_history(signature, reason, user)
        signature.save()
        derived.signatures_removed(
            statement_id=old_statement_id, organization_ids=[old_organization_id]
        )
        derived.signatures_added(
            statement_id=new_statement_id, organization_ids=[new_organization_id]
        )
    return signature


def withdraw(
    *,
    signatures: Iterable[Signature],
    on: datetime.date,
    reason: str,
    user=None,
) -> list[Signature]:
    """
    Record that these organisations withdrew on `on`, for `reason` (shown publicly). The
    signatures stay on their statements, marked withdrawn; a date before one of them joined
    is an error for all.
    """
    signatures = list(signatures)
    if not signatures:
        return []
    with transaction.atomic():
        derived.lock_for_write(
            statement_ids=sorted({s.statement_id for s in signatures}),
            organization_ids=sorted({s.organization_id for s in signatures}),
        )
        errors = {}
        for index, signature in enumerate(signatures):
            signature.withdrawn_on, signature.withdrawal_reason = on, reason.strip()
            try:
                _check(signature)
            except ValidationError as exc:
                errors[index] = " ".join(exc.messages)
        _raise(errors, signatures)
        bulk_update_with_history(
            signatures,
            Signature,
            ["withdrawn_on", "withdrawal_reason"],
            default_user=user,
            default_change_reason=reason[:100] or "Withdrawn",
        )
    return signatures


def reorder_signatures(
    *, statement: Statement, signatures: Sequence[Signature], reason: str = "", user=None
) -> None:
    """
    Give `statement`'s signatures the positions 1, 2, 3… in the order of `signatures`, which
    must be every one of them (as the printed list has them, lead sponsors first).
    """
    with transaction.atomic():
        derived.lock_for_write(statement_ids=[statement.pk])
        stored = set(statement.signatures.order_by().values_list("pk", flat=True))
        given = [signature.pk for signature in signatures]
        if len(given) != len(set(given)) or set(given) != stored:
            raise SigningError(
                "The signatures changed while you were reordering them: reload the page."
            )
        moved = []
        for position, signature in enumerate(signatures, start=1):
            if signature.position != position:
                signature.position = position
                moved.append(signature)
        bulk_update_with_history(
            moved,
            Signature,
            ["position"],
            default_user=user,
            default_change_reason=(reason or "Reordered as printed")[:100],
        )


def remove_signatures(*, signatures: Iterable[Signature], user=None) -> None:
    """
    Delete signatures: for a signature entered by mistake. (An organisation that took its
    name off a statement is withdrawn, not removed: see withdraw.)
    """
    signatures = list(signatures)
    if not signatures:
        return
    with transaction.atomic():
        derived.lock_for_write(
            statement_ids=sorted({s.statement_id for s in signatures}),
            organization_ids=sorted({s.organization_id for s in signatures}),
        )
        _delete(signatures, user=user)


def save_signatures(
    *,
    statement: Statement,
    new: Sequence[Signature] = (),
    changed: Sequence[Signature] = (),
    deleted: Sequence[Signature] = (),
    reason: str = "",
    user=None,
) -> None:
    """
    Write what an edit of a statement's signatures decided, as the admin's forms give it:
    rows to delete, rows changed (perhaps given another organisation) and new rows. All
    belong to `statement`. Queries do not grow with the number of rows, except for the rows
    deleted (each recorded for restoring, see tracker.restore).
    """
    if not (new or changed or deleted):
        return
    with transaction.atomic():
        derived.lock_for_write(statement_ids=[statement.pk])
        # The organisations the rows had, read once the statement is locked: no other write
        # changes its signatures until this one commits.
        ids = [s.pk for s in (*changed, *deleted)]
        stored = dict(
            Signature.objects.filter(pk__in=ids, statement=statement)
            .order_by()
            .values_list("pk", "organization_id")
        )
        if len(stored) != len(set(ids)):
            raise SigningError(
                "Some of these signatures were removed or moved while you were editing them: "
                "reload the page."
            )
        organization_ids = {
            *stored.values(),
            *(s.organization_id for s in (*new, *changed) if s.organization_id),
        }
        derived.lock_for_write(organization_ids=sorted(organization_ids))
        removed = {stored[s.pk] for s in deleted}
        added = {s.organization_id for s in new}
        moved = [s for s in changed if s.organization_id != stored[s.pk]]
        removed |= {stored[s.pk] for s in moved}
        added |= {s.organization_id for s in moved}

        if deleted:
            _delete(list(deleted), user=user, refresh=False)
        if changed:
            issued_on = statement.issued_on
            errors = {}
            for index, signature in enumerate(changed):
                _dated_and_checked(signature, issued_on, errors, index)
            _raise(errors, changed)
            if moved:
                _check_organizations_exist([s.organization_id for s in moved])
                taken = set(
                    Signature.objects.filter(
                        statement=statement, organization_id__in=[s.organization_id for s in moved]
                    )
                    .exclude(pk__in=[s.pk for s in (*moved, *deleted)])
                    .order_by()
                    .values_list("organization_id", flat=True)
                )
                _raise(
                    {
                        index: _already(s)
                        for index, s in enumerate(moved)
                        if s.organization_id in taken
                    },
                    moved,
                )
            bulk_update_with_history(
                list(changed),
                Signature,
                ["organization", *EDITABLE],
                default_user=user,
                default_change_reason=reason,
            )
        if new:
            _insert(statement, list(new), reason=reason, user=user)
        if removed - added:
            derived.signatures_removed(
                statement_id=statement.pk, organization_ids=sorted(removed - added)
            )
        if added - removed:
            derived.signatures_added(
                statement_id=statement.pk, organization_ids=sorted(added - removed)
            )


def save_signature_formset(*, statement: Statement, formset, user=None, reason: str = "") -> None:
    """
    Save the admin's signatures formset of `statement` (already valid) through
    save_signatures: its deleted, changed and new rows in one transaction.
    """
    formset.save(commit=False)
    save_signatures(
        statement=statement,
        new=formset.new_objects,
        changed=[obj for obj, _ in formset.changed_objects],
        deleted=formset.deleted_objects,
        reason=reason,
        user=user,
    )


# --- The steps the services share ------------------------------------------------------


def _insert(statement: Statement, signatures: list[Signature], *, reason: str, user) -> None:
    """
    Check and bulk-insert new signatures of `statement`, locked by the caller: defaults
    filled in (position, date joined), names normalised, every problem found before any
    row is written.
    """
    issued_on = _issued_on([statement.pk]).get(statement.pk)
    if issued_on is None:
        raise SigningError("This statement no longer exists.")
    organization_ids = [s.organization_id for s in signatures]
    missing = _missing_organizations(organization_ids)
    signed = set(
        Signature.objects.filter(statement_id=statement.pk, organization_id__in=organization_ids)
        .order_by()
        .values_list("organization_id", flat=True)
    )
    position = _last_position(statement.pk) if any(s.position is None for s in signatures) else 0
    errors, seen = {}, {}
    for index, signature in enumerate(signatures):
        signature.statement = statement
        if signature.organization_id is None or signature.organization_id in missing:
            errors[index] = "The organisation does not exist (it may have been deleted or merged)."
            continue
        if signature.organization_id in signed:
            errors[index] = _already(signature)
            continue
        if signature.organization_id in seen:
            errors[index] = (
                f"{_organization_label(signature)} is on the list twice (also row "
                f"{seen[signature.organization_id] + 1})."
            )
            continue
        seen[signature.organization_id] = index
        if signature.position is None:
            position += 1
            signature.position = position
        _dated_and_checked(signature, issued_on, errors, index)
    _raise(errors, signatures)
    bulk_create_with_history(
        signatures, Signature, default_user=user, default_change_reason=reason[:100]
    )


def _delete(signatures: list[Signature], *, user, refresh: bool = True) -> None:
    by_statement: dict[int, set[int]] = defaultdict(set)
    for signature in signatures:
        by_statement[signature.statement_id].add(signature.organization_id)
        # Marked in its history so that a superuser can restore it (tracker.restore): a few
        # queries a row, as for any deletion staff can undo.
        delete_recorded(obj=signature, user=user)
    if refresh:
        for statement_id, organization_ids in by_statement.items():
            derived.signatures_removed(
                statement_id=statement_id, organization_ids=sorted(organization_ids)
            )


def _dated_and_checked(signature: Signature, issued_on, errors: dict, index: int) -> None:
    """Joined on the statement's date unless it says otherwise, then checked: a problem goes
    into `errors` under the signature's row."""
    if signature.joined_on is None:
        signature.joined_on = issued_on
    try:
        _check(signature)
    except ValidationError as exc:
        errors[index] = " ".join(exc.messages)


def _check(signature: Signature) -> None:
    """
    The checks forms make, without a query: field values, and the dates' constraints.
    Raises SigningError naming the organisation.
    """
    try:
        signature.clean_fields(exclude=["statement", "organization"])
        signature.clean()
    except ValidationError as exc:
        problems = (
            [f"{name}: {' '.join(messages)}" for name, messages in exc.message_dict.items()]
            if hasattr(exc, "error_dict")
            else exc.messages
        )
        raise SigningError(f"{_organization_label(signature)}: {'; '.join(problems)}") from None
    if signature.withdrawn_on is not None and signature.withdrawn_on < signature.joined_on:
        raise SigningError(
            f"{_organization_label(signature)}: the withdrawal date ({signature.withdrawn_on}) "
            f"cannot be before the date joined ({signature.joined_on})."
        )
    if signature.withdrawal_reason and signature.withdrawn_on is None:
        raise SigningError(
            f"{_organization_label(signature)}: a withdrawal reason needs a withdrawal date."
        )


def _raise(errors: dict[int, str], rows: Sequence[Signature]) -> None:
    if errors:
        raise SigningError([errors[index] for index in sorted(errors)], by_row=errors)


def _already(signature: Signature) -> str:
    return f"{_organization_label(signature)} has already signed this statement."


def _organization_label(signature: Signature) -> str:
    """How an error names a signature's organisation (a query only if it is not loaded)."""
    if Signature.organization.is_cached(signature) and signature.organization is not None:
        return f"“{signature.organization.name}”"
    name = (
        Organization.objects.filter(pk=signature.organization_id)
        .order_by()
        .values_list("name", flat=True)
        .first()
    )
    return f"“{name}”" if name else f"Organisation #{signature.organization_id}"


def _set_history(signature: Signature, reason: str, user) -> None:
    if reason:
        signature._change_reason = reason[:100]
    if user is not None:
        signature._history_user = user


def _issued_on(statement_ids: Collection[int]) -> dict[int, datetime.date]:
    return dict(
        Statement.objects.filter(pk__in=statement_ids).order_by().values_list("pk", "issued_on")
    )


def _last_position(statement_id: int) -> int:
    last = Signature.objects.filter(statement_id=statement_id).aggregate(last=Max("position"))
    return last["last"] or 0


def _missing_organizations(organization_ids: Collection[int]) -> set[int]:
    wanted = {pk for pk in organization_ids if pk is not None}
    found = set(Organization.objects.filter(pk__in=wanted).order_by().values_list("pk", flat=True))
    return wanted - found


def _check_organizations_exist(organization_ids: Collection[int]) -> None:
    if _missing_organizations(organization_ids):
        raise SigningError("The organisation does not exist (it may have been deleted or merged).")


def _check_not_signed(statement_id: int, organization_id: int) -> None:
    if Signature.objects.filter(
        statement_id=statement_id, organization_id=organization_id
    ).exists():
        raise SigningError("This organisation has already signed that statement.")
