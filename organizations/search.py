import re

from django.db.models import Exists, OuterRef, Q, QuerySet

from .models import OtherName

_PRINTED = re.compile(r"^(?P<name>.+?)\s*\((?P<acronym>[^()]+)\)$")


def search_organizations(queryset: QuerySet, text: str) -> QuerySet:
    """By any name: the name, the acronym, or any other name (acronyms, spellings as printed)."""
    text = " ".join(text.split())
    if not text:
        return queryset.none()
    found = _by_name(text)
    # A name as printed on statements, "Name (ACRONYM)": the name, or the acronym.
    if match := _PRINTED.match(text):
        found |= _by_name(match["name"]) | Q(acronym__iexact=match["acronym"])
    return queryset.filter(found)


def _by_name(text: str) -> Q:
    other = OtherName.objects.public().filter(organization=OuterRef("pk"), name__icontains=text)
    return Q(name__icontains=text) | Q(acronym__iexact=text) | Exists(other)
