from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from organizations.api import OrganizationViewSet
from statements.api import SignatureViewSet, StatementViewSet, TopicViewSet
from tracker.api import not_found

admin.site.site_header = "Coalition statement tracker"
admin.site.site_title = "Statement tracker admin"
admin.site.index_title = "Statements, signatories and sources"

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
        SpectacularSwaggerView.as_view(url_name="api:schema", http_method_names=["get", "head"]),
        name="docs",
    ),
    *router.urls,
    re_path(r"^", not_found),  # anything else under /api/v1/, newlines included
]

handler400 = "tracker.api.bad_request"
handler500 = "tracker.api.server_error"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include((api_patterns, "api"))),
    re_path(r"^api/", not_found),
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
