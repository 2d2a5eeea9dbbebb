"""
Keeps each organisation's count of public statements (Organization.public_statement_count)
true whenever a signature is saved, moved or deleted, or a statement goes public or back.
Bulk writes that bypass save() (the synthetic data's COPY) call refresh_public_counts
themselves.
"""

from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver

from organizations.models import Organization

from .models import Signature, Statement


def _refresh(organization_ids):
    ids = {pk for pk in organization_ids if pk is not None}
    if ids:
        Organization.objects.filter(pk__in=ids).refresh_public_counts()


def _stored(instance, field: str):
    """The value `field` has in the database now, before `instance` is saved over it."""
    if instance.pk is None:
        return None
    rows = type(instance).objects.filter(pk=instance.pk).values_list(field, flat=True)
    return rows.first()


@receiver(pre_save, sender=Signature)
def _remember_signature(sender, instance, **kwargs):
    instance._previous_organization_id = _stored(instance, "organization_id")


@receiver(post_save, sender=Signature)
def _signature_saved(sender, instance, **kwargs):
    _refresh([instance.organization_id, getattr(instance, "_previous_organization_id", None)])


@receiver(post_delete, sender=Signature)
def _signature_deleted(sender, instance, **kwargs):
    _refresh([instance.organization_id])


@receiver(pre_save, sender=Statement)
def _remember_status(sender, instance, **kwargs):
    instance._previous_status = _stored(instance, "status")


@receiver(post_save, sender=Statement)
def _statement_saved(sender, instance, created, **kwargs):
    previous = getattr(instance, "_previous_status", None)
    was_public = previous in Statement.PUBLIC_STATUSES
    if not created and was_public != instance.is_public:
        _refresh(instance.signatures.values_list("organization_id", flat=True))
