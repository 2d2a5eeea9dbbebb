"""
Deleting a statement (with its signatures, contacts, coverage and quotes) or an organisation,
recorded in their history so that a superuser can restore them (tracker.restore).

A public statement's signers stop counting it, and its pairs of co-signers stop sharing it,
before its rows go, in the same transaction. An organisation can be deleted only once it has
no signatures (they protect it), so nothing derived counts it by then; its co-signing rows
go with it.
"""

from django.db import transaction

from organizations.models import Organization
from tracker.restore import delete_recorded

from . import derived
from .models import Signature, Statement


def delete_statement(*, statement: Statement, user=None) -> int:
    """
    Delete the statement and everything deleted with it; `user` is recorded as who did it
    (default: the request's user). Returns how many rows went with it.
    """
    with transaction.atomic():
        derived.lock_for_write(
            statement_ids=[statement.pk],
            organization_ids=Signature.objects.filter(statement_id=statement.pk).values(
                "organization_id"
            ),
        )
        status = Statement.objects.filter(pk=statement.pk).values_list("status", flat=True).first()
        if status in Statement.PUBLIC_STATUSES:
            # Taken out of the counts first, while its signatures still say who signed it.
            derived.statement_visibility_changed(
                statement_id=statement.pk, was_public=True, is_public=False
            )
        return delete_recorded(obj=statement, user=user)


def delete_organization(*, organization: Organization, user=None) -> int:
    """
    Delete the organisation and its other names and former slugs; `user` as for
    delete_statement. One with signatures is refused (ProtectedError): remove or move them
    first, or merge it into another record.
    """
    with transaction.atomic():
        derived.lock_for_write(organization_ids=[organization.pk])
        pk = organization.pk
        marked = delete_recorded(obj=organization, user=user)
        derived.refresh(organization_ids=[pk])
        return marked
