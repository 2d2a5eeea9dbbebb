"""Full-text search of statements: PostgreSQL's text search, or word matching on SQLite."""

from django.db import connection
from django.db.models import F, Q, QuerySet, Value


def search_statements(queryset: QuerySet, text: str) -> QuerySet:
    text = " ".join(text.split())
    if not text:
        return queryset.none()
    if connection.vendor == "postgresql":
        from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector

        # The stored, GIN-indexed vector (title A, ask and summary B, full text C).
        query = SearchQuery(text, search_type="websearch", config="english")
        return (
            queryset.filter(search_vector=query)
            # A query that names no word, only exclusions ("-1", "the -gaza"), would match
            # every statement without them: like one that matches an empty text, it finds
            # nothing, as on SQLite. (A constant condition: PostgreSQL decides it once.)
            .alias(_no_words=SearchVector(Value(""), config="english"))
            .exclude(_no_words=query)
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
    return queryset.filter(words).order_by("-issued_on", "-id")
