"""
The public pages of organisations: the A to Z list and each organisation's page, with its
positions (its signatures on public statements), its statements per year and who it signs
with. They live with statements because they show signatures; an address with a former slug
of a merged organisation is redirected by organizations.views.
"""

import math
import string

from django.db.models import Count, Prefetch
from django.db.models.functions import ExtractYear, Upper
from django.shortcuts import get_object_or_404, render

from organizations.models import Organization, OtherName
from organizations.search import search_organizations
from organizations.views import follows_former_slugs

from .cosigning import cosigner_rows
from .models import Signature
from .views import page_of

POSITIONS_SHOWN = 50
COSIGNERS_SHOWN = 10


def organization_list(request):
    organizations = Organization.objects.public().with_public_statement_count()
    query = " ".join(request.GET.get("q", "").split())[:200]
    letter = request.GET.get("letter", "").strip().upper()
    if query:
        organizations = search_organizations(organizations, query)
    elif len(letter) == 1 and letter in string.ascii_uppercase:
        organizations = organizations.annotate(initial=Upper("name")).filter(
            initial__startswith=letter
        )
    else:
        letter = ""
    return render(
        request,
        "organizations/organization_list.html",
        {
            "page": page_of(request, organizations.order_by("name", "id"), size=50),
            "query": query,
            "letter": letter,
            "letters": string.ascii_uppercase,
            "page_title": "Organisations",
            "page_description": "Every organisation that signed a published statement, A to Z.",
        },
    )


def timeline_svg(years: list[dict]) -> dict | None:
    """
    Bars of statements signed per year, drawn on the server: no script needed. At most
    about 600 units wide, however many years: bars narrow and year labels thin out.
    """
    if not years:
        return None
    counts = {row["year"]: row["count"] for row in years}
    span = list(range(years[0]["year"], years[-1]["year"] + 1))
    top = max(counts.values())
    slot = max(8, min(40, 600 // len(span)))
    every = math.ceil(40 / slot)  # a label every `every` years keeps labels ~40 units apart
    bars = []
    for index, year in enumerate(span):
        count = counts.get(year, 0)
        height = round(90 * count / top) if count else 0
        x = 10 + slot * index
        labelled = (len(span) - 1 - index) % every == 0
        bars.append({"x": x, "y": 110 - height, "height": height, "year": year, "count": count,
                     "label_x": x + slot * 0.35, "labelled": labelled})  # fmt: skip
    return {"width": slot * len(span) + 20, "height": 140, "bar": slot * 0.7, "bars": bars}


@follows_former_slugs
def organization_detail(request, slug):
    organization = get_object_or_404(
        Organization.objects.public()
        .with_public_statement_count()
        .prefetch_related(Prefetch("other_names", queryset=OtherName.objects.public())),
        slug=slug,
    )
    positions = Signature.objects.public().filter(organization=organization)
    latest = positions.select_related("statement").order_by(
        "-statement__issued_on", "-statement_id"
    )[:POSITIONS_SHOWN]
    per_year = list(
        positions.annotate(year=ExtractYear("statement__issued_on"))
        .values("year")
        .annotate(count=Count("*"))  # not the ids: the statements come from an index alone
        .order_by("year")
    )
    cosigners = cosigner_rows(organization)[:COSIGNERS_SHOWN]
    return render(
        request,
        "organizations/organization_detail.html",
        {
            "organization": organization,
            "positions": latest,
            "timeline": timeline_svg(per_year),
            "cosigners": cosigners,
            "page_title": organization.name,
            "page_description": organization.description
            or f"The statements {organization.name} signed, and who it signs with.",
            "og_type": "profile",
        },
    )
