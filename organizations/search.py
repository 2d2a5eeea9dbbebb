from django.db.models import Exists, OuterRef, Q, QuerySet

from .models import OtherName


def search_organizations(queryset: QuerySet, text: str) -> QuerySet:
    """By any name: the name, the acronym, or any other name (acronyms, spellings as printed)."""
    text = " ".join(text.split())
    if not text:
        return queryset.none()
    other = OtherName.objects.filter(organization=OuterRef("pk"), name__icontains=text)
    return queryset.filter(Q(name__icontains=text) | Q(acronym__iexact=text) | Exists(other))
