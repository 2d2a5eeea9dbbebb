"""Full-text search of statements: PostgreSQL's text search, or word matching on SQLite."""

from django.db import connection
from django.db.models import Q, QuerySet


def search_statements(queryset: QuerySet, text: str) -> QuerySet:
    text = " ".join(text.split())
    if not text:
        return queryset.none()
    if connection.vendor == "postgresql":
        from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector

        vector = (
            SearchVector("title", weight="A", config="english")
            + SearchVector("ask", "summary", weight="B", config="english")
            + SearchVector("full_text", weight="C", config="english")
        )
        query = SearchQuery(text, search_type="websearch", config="english")
        # Match with @@ (ts_rank is never 0, even for a statement that does not match).
        return (
            queryset.annotate(search=vector, rank=SearchRank(vector, query))
            .filter(search=query)
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
