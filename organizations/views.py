"""
What the organisation pages and endpoints share that needs only organisations: an address with
the former slug of a merged organisation leads to the one it was merged into. The pages
themselves show signatures, so they live with them: statements/organization_pages.py and
statements/organization_api.py.
"""

import functools

from django.http import Http404, HttpResponsePermanentRedirect
from django.urls import reverse

from .models import FormerSlug, Organization


def former_slug_redirect(request, slug: str) -> HttpResponsePermanentRedirect | None:
    """
    A permanent redirect to the same address with the current slug of the organisation
    `slug` was merged into, the query string kept; None if `slug` is no former slug of a
    public organisation (a redirect to a staff-only one would reveal its address), or is
    one withheld until a draft is published.
    """
    current = (
        FormerSlug.objects.public()
        .filter(slug=slug, organization__in=Organization.objects.public())
        .values_list("organization__slug", flat=True)
        .first()
    )
    if current is None:
        return None
    match = request.resolver_match
    url = reverse(match.view_name, args=match.args, kwargs={**match.kwargs, "slug": current})
    query = request.META.get("QUERY_STRING", "")
    return HttpResponsePermanentRedirect(f"{url}?{query}" if query else url)


def follows_former_slugs(view):
    """
    For a view of one organisation by its `slug`: where it finds no such organisation, an
    address with the slug of a merged organisation redirects to the one it was merged into.
    Only addresses that would be a 404 pay for the extra query.
    """

    @functools.wraps(view)
    def wrapped(request, *args, slug, **kwargs):
        try:
            return view(request, *args, slug=slug, **kwargs)
        except Http404:
            redirect = former_slug_redirect(request, slug)
            if redirect is None:
                raise
            return redirect

    return wrapped
