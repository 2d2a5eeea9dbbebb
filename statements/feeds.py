import datetime

from django.contrib.syndication.views import Feed
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.feedgenerator import Atom1Feed
from django.utils.xmlutils import SimplerXMLGenerator

from organizations.models import Organization
from tracker.text import xml_text

from .models import Signature, Statement, Topic

ITEMS = 50


class _XmlTextGenerator(SimplerXMLGenerator):
    """Writes text without what XML 1.0 cannot carry, instead of failing on it."""

    def characters(self, content):
        super().characters(xml_text(content))


class TextAtomFeed(Atom1Feed):
    """
    An Atom feed whose summaries are plain text, as the product stores them: declared
    `type="html"` (Django's default), a reader would render "<script>" typed by staff as
    markup. A control character in a row written around validation is dropped, not a 500.
    """

    def write(self, outfile, encoding):
        handler = _XmlTextGenerator(outfile, encoding, short_empty_elements=True)
        handler.startDocument()
        handler.startElement("feed", self.root_attributes())
        self.add_root_elements(handler)
        self.write_items(handler)
        handler.endElement("feed")

    def add_item_elements(self, handler, item):
        super().add_item_elements(handler, {**item, "description": None})
        if item["description"] is not None:
            handler.addQuickElement("summary", item["description"], {"type": "text"})


class StatementFeed(Feed):
    """All public statements, newest first."""

    feed_type = TextAtomFeed
    title = "Coalition statement tracker: statements"
    subtitle = "Joint statements, sign-on letters and open letters, newest first."

    def link(self):
        return reverse("statement-list")

    def statements(self, obj):
        return Statement.objects.public()

    def items(self, obj=None):
        return self.statements(obj).order_by("-issued_on", "-id")[:ITEMS]

    def item_title(self, item):
        return item.title + (" (retracted)" if item.status == Statement.Status.RETRACTED else "")

    def item_description(self, item):
        return item.ask or item.summary

    def item_link(self, item):
        return item.get_absolute_url()

    def item_pubdate(self, item):
        return timezone.make_aware(datetime.datetime.combine(item.issued_on, datetime.time()))

    def item_updateddate(self, item):
        return item.updated_at


class OrganizationFeed(StatementFeed):
    """The public statements one organisation signed."""

    def get_object(self, request, slug):
        return get_object_or_404(Organization.objects.public(), slug=slug)

    def title(self, obj):
        return f"Statements signed by {obj.name}"

    def subtitle(self, obj):
        return f"Every published statement {obj.name} signed, newest first."

    def link(self, obj):
        return obj.get_absolute_url()

    def statements(self, obj):
        signed = Signature.objects.filter(organization=obj).values("statement_id")
        return Statement.objects.public().filter(pk__in=signed)


class TopicFeed(StatementFeed):
    """The public statements on one topic."""

    def get_object(self, request, slug):
        return get_object_or_404(Topic.objects.public(), slug=slug)

    def title(self, obj):
        return f"Statements on {obj.name}"

    def subtitle(self, obj):
        return f"Published statements on {obj.name}, newest first."

    def link(self, obj):
        return obj.get_absolute_url()

    def statements(self, obj):
        return Statement.objects.public().filter(topics=obj)
