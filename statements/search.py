"""
Search of statements: by their words (PostgreSQL's text search, or word matching on SQLite),
and by the name, other name or acronym of an organisation that signed them, whole and
folded (organizations.search.named_exactly: "ANCA", "T'ruah", "truah"). Statements found by
their words come first, by rank; those found by a signer's name after them, newest first.
"""

from django.db import connection
from django.db.models import F, Q, QuerySet, Value

from organizations.models import Organization
from organizations.search import named_exactly

from .models import Signature


def _signed_by_named(text: str) -> Q:
    """The statements an organisation named whole by `text` signed."""
    named = named_exactly(Organization.objects.all(), text).values("pk")
    return Q(pk__in=Signature.objects.filter(organization__in=named).values("statement_id"))


def search_statements(queryset: QuerySet, text: str) -> QuerySet:
    text = " ".join(text.split())
    if not text:
        return queryset.none()
    if connection.vendor == "postgresql":
        from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector

        # The stored, GIN-indexed vector (title A, ask and summary B, full text C).
        query = SearchQuery(text, search_type="websearch", config="english")
        # A query that names no word, only exclusions ("-1", "the -gaza"), would match every
        # statement without them: like one that matches an empty text, it finds nothing by
        # words, as on SQLite. (A constant condition: PostgreSQL decides it once.)
        has_words = ~Q(_no_words=query)
        return (
            queryset.alias(_no_words=SearchVector(Value(""), config="english"))
            .filter((Q(search_vector=query) & has_words) | _signed_by_named(text))
            .annotate(rank=SearchRank(F("search_vector"), query))
            .order_by("-rank", "-issued_on", "-id")
        )
    words = Q()
    for word in text.split():
        words &= (
            Q(title__icontains=word)
            | Q(summary__icontains=word)
            | Q(ask__icontains=word)
            | Q(full_text__icontains=word)
        )
    return queryset.filter(words | _signed_by_named(text)).order_by("-issued_on", "-id")
