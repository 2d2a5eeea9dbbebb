"""
Staff's judgements of whether a printed name, or two organisations, are one organisation
(organizations.models.Judgement): made from a signatory list's preview and the Likely
duplicates page, shown and taken back in the admin, and read by the matcher and the
duplicates page so that a question answered is not asked again.

Every function here writes in one transaction, with history (who, and why).
"""

from django.core.exceptions import ValidationError
from django.db import transaction

from .matching import fold
from .models import Judgement, Organization, OtherName

SAME, APART = Judgement.Verdict.SAME, Judgement.Verdict.APART


def apart_pairs() -> set[tuple[int, int]]:
    """Pairs of organisation ids (smaller first) staff judged are not one organisation."""
    rows = Judgement.objects.filter(other__isnull=False, verdict=APART)
    return set(rows.values_list("organization_id", "other_id"))


def _saved(judgement: Judgement, user, reason: str) -> Judgement:
    judgement.clean_fields(exclude=["organization", "other", "other_name", "made_by"])
    judgement._history_user = user
    judgement._change_reason = reason[:100]
    judgement.save()
    return judgement


def _remove_other_name(judgement: Judgement, user, reason: str):
    other_name = judgement.other_name
    if other_name is not None:
        judgement.other_name = None
        other_name._history_user = user
        other_name._change_reason = reason[:100]
        other_name.delete()


@transaction.atomic
def name_is_apart(name: str, organization: Organization, *, user=None, reason="") -> Judgement:
    """`name`, as printed, is not `organization`: it is not suggested for it again."""
    key = _name_key(name)
    judgement = Judgement.objects.filter(organization=organization, name_fold=key).first()
    if judgement is None:
        judgement = Judgement(organization=organization, name_fold=key)
    elif judgement.verdict == SAME:
        _remove_other_name(judgement, user, reason)
    judgement.name, judgement.verdict = name, APART
    judgement.made_by = user
    return _saved(judgement, user, reason or "Judged not the same")


@transaction.atomic
def name_is_same(name: str, organization: Organization, *, user=None, reason="") -> Judgement:
    """
    `name`, as printed, is `organization`: unless it is one of its names already (folded),
    it becomes an other name of it, so that it matches next time with no question. A name
    that is another organisation's is judged all the same, without an other name.
    """
    key = _name_key(name)
    judgement = Judgement.objects.filter(organization=organization, name_fold=key).first()
    if judgement is None:
        judgement = Judgement(organization=organization, name_fold=key)
    judgement.name, judgement.verdict = name, SAME
    judgement.made_by = user
    if judgement.other_name is None and key not in _folded_names(organization):
        other_name = OtherName(organization=organization, name=name, kind=OtherName.Kind.VARIANT)
        try:
            other_name.full_clean()
        except ValidationError:
            pass  # the name is another organisation's, or cannot be stored: judged only
        else:
            other_name._history_user = user
            other_name._change_reason = (reason or "Judged the same")[:100]
            other_name.save()
            judgement.other_name = other_name
    return _saved(judgement, user, reason or "Judged the same")


@transaction.atomic
def pair_is_apart(first: Organization, second: Organization, *, user=None, reason="") -> Judgement:
    """The two organisations are not one: the duplicates page does not list them again."""
    if first.pk == second.pk:
        raise ValidationError("An organisation cannot be judged apart from itself.")
    low, high = sorted([first, second], key=lambda org: org.pk)
    judgement, _ = Judgement.objects.get_or_create(
        organization=low, other=high, defaults={"verdict": APART, "made_by": user}
    )
    judgement.verdict, judgement.made_by = APART, user
    return _saved(judgement, user, reason or "Judged not the same")


@transaction.atomic
def take_back(judgement: Judgement, *, user=None, reason="") -> None:
    """Forget a judgement, and the other name it added: the question may be asked again."""
    reason = reason or "Judgement taken back"
    _remove_other_name(judgement, user, reason)
    judgement._history_user = user
    judgement._change_reason = reason[:100]
    judgement.delete()


def _name_key(name: str) -> str:
    key = fold(name)
    if not key:
        raise ValidationError("The name has no letters or digits to judge.")
    return key


def _folded_names(organization: Organization) -> set[str]:
    names = [organization.name, organization.acronym]
    names += list(organization.other_names.values_list("name", flat=True))
    return {fold(name) for name in names if name}
