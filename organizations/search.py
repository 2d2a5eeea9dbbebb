import re

from django.db.models import QuerySet

from .models import Organization, OtherName

_PRINTED = re.compile(r"^(?P<name>.+?)\s*\((?P<acronym>[^()]+)\)$")


def search_organizations(queryset: QuerySet, text: str) -> QuerySet:
    """
    By any name: the name, the acronym, or any other name (acronyms, spellings as printed).

    The organisations found are the union of one query for each way of matching, each of
    which an index answers on PostgreSQL (trigrams of the names, the acronyms in capitals:
    migration organizations 0014), rather than one test of every organisation for any of
    them, which reads the whole table.
    """
    text = " ".join(text.split())
    if not text:
        return queryset.none()
    ways = _by_name(text)
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


def _by_acronym(text: str) -> QuerySet:
    return Organization.objects.filter(acronym__iexact=text).order_by().values("pk")
