from django.contrib.sitemaps import Sitemap
from django.urls import reverse

from organizations.models import Organization
from statements.models import Statement, Topic


class StatementSitemap(Sitemap):
    changefreq = "weekly"
    limit = 10000

    def items(self):
        return Statement.objects.public().only("slug", "updated_at").order_by("pk")

    def lastmod(self, item):
        return item.updated_at


class OrganizationSitemap(Sitemap):
    changefreq = "weekly"
    limit = 10000

    def items(self):
        return Organization.objects.public().only("slug", "updated_at").order_by("pk")

    def lastmod(self, item):
        return item.updated_at


class TopicSitemap(Sitemap):
    changefreq = "weekly"

    def items(self):
        return Topic.objects.public().order_by("pk")


class PageSitemap(Sitemap):
    changefreq = "daily"

    def items(self):
        return ["home", "statement-list", "organization-list", "topic-list"]

    def location(self, item):
        return reverse(item)


SITEMAPS = {
    "pages": PageSitemap,
    "statements": StatementSitemap,
    "organizations": OrganizationSitemap,
    "topics": TopicSitemap,
}
