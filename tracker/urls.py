from csp.decorators import csp_update
from django.conf import settings
from django.contrib import admin
from django.contrib.sitemaps import views as sitemap_views
from django.templatetags.static import static
from django.urls import include, path, re_path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from organizations import views as organization_views
from organizations.api import OrganizationViewSet
from statements import documents as statement_documents
from statements import views as statement_views
from statements.api import SignatureViewSet, StatementViewSet, TopicViewSet
from statements.feeds import OrganizationFeed, StatementFeed, TopicFeed
from tracker import views as tracker_views
from tracker.api import not_found
from tracker.security import StaffLoginForm
from tracker.sitemaps import SITEMAPS

admin.site.site_header = "Coalition statement tracker"
admin.site.site_title = "Statement tracker admin"
admin.site.index_title = "Statements, signatories and sources"
admin.site.login_form = StaffLoginForm

router = DefaultRouter(trailing_slash=True)
router.include_format_suffixes = False
router.register("statements", StatementViewSet, basename="statement")
router.register("organizations", OrganizationViewSet, basename="organization")
router.register("signatures", SignatureViewSet, basename="signature")
router.register("topics", TopicViewSet, basename="topic")

api_patterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path(
        "docs/",
        # Swagger UI's page carries a <style> block and inline images; its script is served
        # from the same address (?script), so scripts stay 'self' only.
        csp_update({"style-src": ["'unsafe-inline'"]})(
            SpectacularSwaggerSplitView.as_view(
                url_name="api:schema", http_method_names=["get", "head"]
            )
        ),
        name="docs",
    ),
    *router.urls,
    re_path(r"^", not_found),  # anything else under /api/v1/, newlines included
]

handler400 = "tracker.api.bad_request"
handler500 = "tracker.api.server_error"

urlpatterns = [
    path("", statement_views.home, name="home"),
    path("statements/", statement_views.statement_list, name="statement-list"),
    path("statements/<slug:slug>/", statement_views.statement_detail, name="statement-detail"),
    path("organizations/", organization_views.organization_list, name="organization-list"),
    path(
        "organizations/<slug:slug>/",
        organization_views.organization_detail,
        name="organization-detail",
    ),
    path("topics/", statement_views.topic_list, name="topic-list"),
    path("topics/<slug:slug>/", statement_views.topic_detail, name="topic-detail"),
    path("search/", statement_views.search, name="search"),
    path("feeds/statements/", StatementFeed(), name="feed-statements"),
    path(
        "organizations/<slug:slug>/feed/",
        organization_views.follows_former_slugs(OrganizationFeed()),
        name="feed-organization",
    ),
    path("topics/<slug:slug>/feed/", TopicFeed(), name="feed-topic"),
    path("health/", tracker_views.health, name="health"),
    # Browsers ask for /favicon.ico on pages that name no icon (the admin's).
    path("favicon.ico", RedirectView.as_view(url=static("tracker/favicon.svg"), permanent=True)),
    path("sitemap.xml", sitemap_views.sitemap, {"sitemaps": SITEMAPS}, name="sitemap"),
    path("admin/", admin.site.urls),
    path("api/v1/", include((api_patterns, "api"))),
    re_path(r"^api/", not_found),
]

# Uploaded documents, in production as in development: only the files statements name, as
# downloads (statements/documents.py). Its addresses are the storage's (FieldFile.url), so
# the pattern has no name to reverse.
urlpatterns.append(
    path(f"{settings.MEDIA_URL.strip('/')}/<path:name>", statement_documents.serve_document)
)
