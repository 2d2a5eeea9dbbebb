import re

from django.db.models import QuerySet

from .models import Organization, OtherName
from .names import compact, fold

_PRINTED = re.compile(r"^(?P<name>.+?)\s*\((?P<acronym>[^()]+)\)$")


def search_organizations(queryset: QuerySet, text: str) -> QuerySet:
    """
    By any name: the name, the acronym, or any other name (acronyms, spellings as printed),
    as typed or folded (organizations.names.fold: "truah" finds T'ruah, "womens" Women's).

    The organisations found are the union of one query for each way of matching, each of
    which an index answers on PostgreSQL (trigrams of the names, the acronyms in capitals:
    migration organizations 0014), rather than one test of every organisation for any of
    them, which reads the whole table.
    """
    text = " ".join(text.split())
    if not text:
        return queryset.none()
    ways = _by_name(text) + _by_folded_name(fold(text))
    # A name as printed on statements, "Name (ACRONYM)": the name, or the acronym.
    if match := _PRINTED.match(text):
        ways += [*_by_name(match["name"]), _by_acronym(match["acronym"])]
    first, *others = ways
    return queryset.filter(pk__in=first.union(*others))


def _by_name(text: str) -> list[QuerySet]:
    return [
        Organization.objects.filter(name__icontains=text).order_by().values("pk"),
        _by_acronym(text),
        OtherName.objects.public()
        .filter(name__icontains=text)
        .order_by()
        .values("organization_id"),
    ]


def _by_folded_name(key: str) -> list[QuerySet]:
    if len(key) < 2:
        return []  # "&", "C++": folded to next to nothing, which would find everything
    return [
        Organization.objects.filter(name_fold__contains=key).order_by().values("pk"),
        OtherName.objects.public()
        .filter(name_fold__contains=key)
        .order_by()
        .values("organization_id"),
    ]


def named_exactly(queryset: QuerySet, text: str) -> QuerySet:
    """
    The organisations `text` names whole: their name, an other name or the acronym, folded
    ("WILPF-US" is WILPF US). A search for "AMP" finds American Muslims for Palestine here,
    and "Campaign" (which contains "amp") only in search_organizations.
    """
    key = fold(text)
    if not key:
        return queryset.none()
    ways = [
        Organization.objects.filter(name_fold=key).order_by().values("pk"),
        _by_acronym(" ".join(text.split())),
        OtherName.objects.public().filter(name_fold=key).order_by().values("organization_id"),
    ]
    if compact(key) != key:
        ways.append(_by_acronym(compact(key)))  # "A.M.P." and "AMP"
    first, *others = ways
    return queryset.filter(pk__in=first.union(*others))


def _by_acronym(text: str) -> QuerySet:
    return Organization.objects.filter(acronym__iexact=text).order_by().values("pk")
