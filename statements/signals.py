"""
Keeps what is derived from the signatures true whenever a signature is saved, moved or
deleted, or a statement goes public or back, or changes date: each organisation's count of
public statements (Organization.public_statement_count) and the co-signing table
(organizations.Cosigning, through statements.cosigning). Bulk writes that bypass save()
(the synthetic data's COPY) call refresh_public_counts and cosigning.rebuild themselves.
"""

from django.core.signals import request_started
from django.db import connection
from django.db.models.signals import post_delete, post_save, pre_delete, pre_save
from django.dispatch import receiver

from organizations.models import Organization

from . import cosigning, withholding
from .models import Signature, Statement


def _refresh(organization_ids):
    ids = {pk for pk in organization_ids if pk is not None}
    if ids:
        Organization.objects.filter(pk__in=ids).refresh_public_counts()
        cosigning.refresh_kept(ids)


def _stored(instance, *fields: str):
    """
    The values `fields` have in the database now, before `instance` is saved over them;
    locked in a transaction (the admin's saves), so that two saves at the same moment each
    see what the other wrote.
    """
    if instance.pk is None:
        return None
    rows = type(instance).objects.filter(pk=instance.pk)
    if connection.in_atomic_block:
        rows = rows.select_for_update()
    return rows.values_list(*fields).first()


@receiver(pre_save, sender=Signature)
def _remember_signature(sender, instance, **kwargs):
    stored = _stored(instance, "organization_id", "statement_id")
    instance._previous_organization_id = stored[0] if stored else None
    if stored and stored != (instance.organization_id, instance.statement_id):
        cosigning.signature_moving(stored[1], stored[0])
        instance._moved = True


@receiver(post_save, sender=Signature)
def _signature_saved(sender, instance, created, **kwargs):
    if created or getattr(instance, "_moved", False):
        instance._moved = False
        cosigning.signature_added(instance.statement_id, instance.organization_id)
    _refresh([instance.organization_id, getattr(instance, "_previous_organization_id", None)])


@receiver(pre_delete, sender=Signature)
def _signature_deleting(sender, instance, **kwargs):
    cosigning.signature_leaving(instance.statement_id, instance.organization_id)


@receiver(post_delete, sender=Signature)
def _signature_deleted(sender, instance, **kwargs):
    cosigning.signature_left(instance.statement_id, instance.organization_id)
    _refresh([instance.organization_id])


@receiver(pre_save, sender=Statement)
def _remember_status(sender, instance, **kwargs):
    stored = _stored(instance, "status", "issued_on")
    instance._previous_status, instance._previous_issued_on = stored or (None, None)


@receiver(post_save, sender=Statement)
def _statement_saved(sender, instance, created, **kwargs):
    previous = getattr(instance, "_previous_status", None)
    was_public = previous in Statement.PUBLIC_STATUSES
    if created:
        return  # no signatures yet
    cosigning.statement_changed(
        instance.pk,
        was_public,
        getattr(instance, "_previous_issued_on", None),
        instance.is_public,
        instance.issued_on,
    )
    if was_public != instance.is_public:
        _refresh(instance.signatures.values_list("organization_id", flat=True))
        withholding.refresh_withheld(statement_ids=[instance.pk])


request_started.connect(cosigning.forget_deletions, dispatch_uid="cosigning_forget_deletions")
