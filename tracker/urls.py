from csp.decorators import csp_update
from django.conf import settings
from django.contrib import admin
from django.contrib.sitemaps import views as sitemap_views
from django.templatetags.static import static
from django.urls import include, path, re_path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from organizations.views import follows_former_slugs
from statements import organization_pages
from statements import views as statement_views
from statements.api import SignatureViewSet, StatementViewSet, TopicViewSet
from statements.feeds import OrganizationFeed, StatementFeed, TopicFeed
from statements.organization_api import OrganizationViewSet
from tracker import views as tracker_views
from tracker.errors import not_found
from tracker.response_cache import with_kept_answers
from tracker.security import StaffLoginForm
from tracker.sitemaps import SITEMAPS

admin.site.site_header = "Coalition statement tracker"
admin.site.site_title = "Statement tracker admin"
admin.site.index_title = "Statements, signatories and sources"
admin.site.login_form = StaffLoginForm

router = DefaultRouter(trailing_slash=True)
router.include_format_suffixes = False
# Each endpoint answers from the kept answers when it can (tracker.response_cache).
router.register("statements", with_kept_answers(StatementViewSet), basename="statement")
router.register("organizations", with_kept_answers(OrganizationViewSet), basename="organization")
router.register("signatures", with_kept_answers(SignatureViewSet), basename="signature")
router.register("topics", with_kept_answers(TopicViewSet), basename="topic")

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

handler400 = "tracker.errors.bad_request"
handler500 = "tracker.errors.server_error"

urlpatterns = [
    path("", statement_views.home, name="home"),
    path("statements/", statement_views.statement_list, name="statement-list"),
    path("statements/<slug:slug>/", statement_views.statement_detail, name="statement-detail"),
    path("organizations/", organization_pages.organization_list, name="organization-list"),
    path(
        "organizations/<slug:slug>/",
        organization_pages.organization_detail,
        name="organization-detail",
    ),
    path("topics/", statement_views.topic_list, name="topic-list"),
    path("topics/<slug:slug>/", statement_views.topic_detail, name="topic-detail"),
    path("search/", statement_views.search, name="search"),
    path("feeds/statements/", StatementFeed(), name="feed-statements"),
    path(
        "organizations/<slug:slug>/feed/",
        follows_former_slugs(OrganizationFeed()),
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
    path(f"{settings.MEDIA_URL.strip('/')}/<path:name>", statement_views.serve_document)
)
