from django.conf import settings
from django.contrib import admin
from django.urls import path
from django.views.generic import RedirectView

admin.site.site_header = "Coalition statement tracker"
admin.site.site_title = "Statement tracker admin"
admin.site.index_title = "Statements, signatories and sources"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
