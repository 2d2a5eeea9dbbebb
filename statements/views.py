import logging
import posixpath
import re

from django.core.exceptions import SuspiciousFileOperation
from django.core.paginator import Paginator
from django.db.models import Count, Exists, OuterRef, Sum
from django.db.models.functions import Coalesce, ExtractYear
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, render
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_safe

from organizations.models import Organization
from organizations.search import named_exactly, search_organizations

from . import documents
from .models import Signature, Statement, Topic
from .search import search_statements

PAGE_SIZE = 25
documents_logger = logging.getLogger("statements.documents")


def page_of(request, queryset, size=PAGE_SIZE):
    """
    The page asked for. A page number past the end shows the last page (an old link still
    lands somewhere); one that is not a page number at all (abc, -1, 2**63) is a 404.
    """
    number = request.GET.get("page")
    if number is not None and number != "last" and not re.fullmatch(r"[1-9][0-9]{0,8}", number):
        raise Http404("There is no such page.")
    return Paginator(queryset, size).get_page(number)


def find_organization(wanted: str) -> tuple[Organization | None, str]:
    """
    One organisation by its slug, or a name or acronym it alone has whole ("AMP"), or else
    a part of a name that only it has.
    """
    public = Organization.objects.public()
    if found := public.filter(slug=wanted).first():
        return found, ""
    matches = list(named_exactly(public, wanted).order_by("name")[:6])
    if not matches:
        matches = list(search_organizations(public, wanted).order_by("name")[:6])
    if len(matches) == 1:
        return matches[0], ""
    if not matches:
        return None, f"No organisation is called “{wanted}”."
    names = "; ".join(m.name for m in matches[:5])
    return None, f"Several organisations match “{wanted}” ({names}): be more precise."


def home(request):
    public = Statement.objects.public()
    return render(
        request,
        "statements/home.html",
        {
            "latest": public.listed().order_by("-issued_on", "-id")[:10],
            "statement_count": public.count(),
            "organization_count": Organization.objects.public().count(),
            # Each public signature is one public statement of one organisation: summing the
            # organisations' kept counts avoids counting every signature on each visit.
            "signature_count": Organization.objects.aggregate(
                n=Coalesce(Sum("public_statement_count"), 0)
            )["n"],
        },
    )


def statement_list(request):
    statements = Statement.objects.public()
    errors = []
    topic = organization = year = None
    if slug := request.GET.get("topic", "").strip():
        topic = Topic.objects.public().filter(slug=slug).first()
        if topic is None:
            errors.append(f"There is no topic “{slug}”.")
        else:
            statements = statements.filter(Statement.on_topic(topic))
    if wanted := " ".join(request.GET.get("organization", "").split())[:200]:
        organization, error = find_organization(wanted)
        if error:
            errors.append(error)
        else:
            statements = statements.filter(
                Exists(
                    Signature.objects.filter(statement=OuterRef("pk"), organization=organization)
                )
            )
    if raw := request.GET.get("year", "").strip():
        if raw.isascii() and raw.isdigit() and len(raw) == 4 and raw != "0000":
            year = int(raw)
            statements = statements.filter(issued_on__year=year)
        else:
            errors.append(f"“{raw[:20]}” is not a year.")
    if errors:
        # A filter that named nothing: its list would be every statement, under a count
        # that reads as the answer.
        statements = statements.none()
    years = (
        Statement.objects.public()
        .annotate(year=ExtractYear("issued_on"))
        .values_list("year", flat=True)
        .distinct()
        .order_by("-year")
    )
    page = page_of(request, statements.listed().order_by("-issued_on", "-id"))
    return render(
        request,
        "statements/statement_list.html",
        {
            "page": page,
            "topics": Topic.objects.public().order_by("name"),
            "years": list(years),
            "topic": topic,
            "organization": organization,
            "organization_wanted": request.GET.get("organization", "")[:200],
            "year": year,
            "errors": errors,
            "page_title": "Statements",
            "page_description": "Every published joint statement, sign-on letter and open "
            "letter, with who signed it.",
        },
        status=400 if errors else 200,
    )


def statement_detail(request, slug):
    # Staff who may view statements also see drafts here: the preview of the public page.
    preview = request.user.is_staff and request.user.has_perm("statements.view_statement")
    statements = Statement.objects.all() if preview else Statement.objects.public()
    statement = get_object_or_404(statements.listed().with_public_parts(), slug=slug)
    signatures = statement.signature_rows()
    response = render(
        request,
        "statements/statement_detail.html",
        {
            "statement": statement,
            "leads": [s for s in signatures if s.role == Signature.Role.LEAD],
            "signatories": [s for s in signatures if s.role == Signature.Role.SIGNATORY],
            "page_title": statement.title,
            "page_description": statement.ask or statement.summary or statement.title,
            "og_type": "article",
            "draft_preview": not statement.is_public,
        },
    )
    if not statement.is_public:
        patch_cache_control(response, private=True, no_store=True)
    return response


def topic_list(request):
    topics = (
        Topic.objects.public()
        .annotate(
            statement_count=Count(
                "statements", filter=Statement.public_filter("statements__"), distinct=True
            )
        )
        .order_by("name")
    )
    return render(
        request,
        "statements/topic_list.html",
        {
            "topics": topics,
            "page_title": "Topics",
            "page_description": "What the statements are about.",
        },
    )


def topic_detail(request, slug):
    topic = get_object_or_404(Topic.objects.public(), slug=slug)
    statements = (
        Statement.objects.public()
        .filter(Statement.on_topic(topic))
        .listed()
        .order_by("-issued_on", "-id")
    )
    return render(
        request,
        "statements/topic_detail.html",
        {
            "topic": topic,
            "page": page_of(request, statements),
            "page_title": topic.name,
            "page_description": topic.description or f"Statements on {topic.name}.",
        },
    )


def search(request):
    query = " ".join(request.GET.get("q", "").split())[:200]
    statements = organizations = None
    if query:
        statements = search_statements(Statement.objects.public(), query).listed()[:50]
        organizations = (
            search_organizations(Organization.objects.public(), query)
            .with_public_statement_count()
            .order_by("name")[:50]
        )
    return render(
        request,
        "statements/search.html",
        {
            "query": query,
            "statements": statements,
            "organizations": organizations,
            "page_title": f"Search: {query}" if query else "Search",
            "page_description": "Search statements by their words and organisations by "
            "any of their names.",
        },
    )


def may_see_drafts(user) -> bool:
    return user.is_active and user.is_staff and user.has_perm("statements.view_statement")


@require_safe
def serve_document(request, name: str):
    """
    A statement's document, as a download. A draft's is staff-only: to anyone else it does
    not exist (404), as the draft itself does not.
    """
    statement = Statement.objects.filter(document=name).only("status", "document").first()
    if statement is None or not (statement.is_public or may_see_drafts(request.user)):
        raise Http404("No such document.")
    document = statement.document
    try:
        file = document.storage.open(document.name, "rb")
    except (FileNotFoundError, IsADirectoryError, SuspiciousFileOperation):
        documents_logger.warning("The document %r of statement %s is missing.", name, statement.pk)
        raise Http404("No such document.") from None
    response = FileResponse(
        file,
        as_attachment=True,
        filename=posixpath.basename(document.name),
        content_type=documents.served_type(document.name),
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = documents.DOWNLOAD_CSP
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    # A draft's document is kept by no cache on the way; a public one briefly (a statement
    # taken back to draft stops serving it within minutes).
    response["Cache-Control"] = "max-age=300" if statement.is_public else "private, no-store"
    return response
