from django.urls import reverse
from rest_framework import serializers

from organizations.models import Organization
from tracker.api import URI_FIELD_MAPPING, DetailLink, detail_url, iso_date

from .models import CoverageLink, MediaContact, Quote, Signature, Statement, Topic


class OrganizationRefSerializer(serializers.ModelSerializer):
    url = DetailLink("api:organization-detail")

    class Meta:
        model = Organization
        fields = ["slug", "name", "acronym", "url"]

    def to_representation(self, instance):
        return organization_ref(instance, self.context["request"])


# Rows that lists hold by the hundred are written out by hand: the same keys and values as
# the fields declared on their serializers (which the schema is made from; the API tests and
# tests/test_bench_floor.py compare every key), at a tenth of the cost of nested serializers.
# Like the links they hold (DetailLink), they need the request.


def organization_ref(organization, request) -> dict:
    return {
        "slug": organization.slug,
        "name": organization.name,
        "acronym": organization.acronym,
        "url": detail_url(request, "api:organization-detail", organization.slug),
    }


def statement_ref(statement, request) -> dict:
    return {
        "slug": statement.slug,
        "title": statement.title,
        "kind": statement.kind,
        "status": statement.status,
        "issued_on": iso_date(statement.issued_on),
        "url": detail_url(request, "api:statement-detail", statement.slug),
    }


class TopicRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Topic
        fields = ["slug", "name"]


class StatementRefSerializer(serializers.ModelSerializer):
    url = DetailLink("api:statement-detail")

    class Meta:
        model = Statement
        fields = ["slug", "title", "kind", "status", "issued_on", "url"]

    def to_representation(self, instance):
        return statement_ref(instance, self.context["request"])


class StatementListSerializer(serializers.ModelSerializer):
    url = DetailLink("api:statement-detail")
    topics = serializers.SlugRelatedField(slug_field="slug", many=True, read_only=True)
    lead_count = serializers.IntegerField(read_only=True)
    signatory_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Statement
        fields = [
            "slug",
            "title",
            "kind",
            "status",
            "issued_on",
            "place",
            "ask",
            "topics",
            "lead_count",
            "signatory_count",
            "url",
        ]

    def to_representation(self, statement):
        return {
            "slug": statement.slug,
            "title": statement.title,
            "kind": statement.kind,
            "status": statement.status,
            "issued_on": iso_date(statement.issued_on),
            "place": statement.place,
            "ask": statement.ask,
            "topics": [topic.slug for topic in statement.listed_topics],
            "lead_count": statement.lead_count,
            "signatory_count": statement.signatory_count,
            "url": detail_url(self.context["request"], "api:statement-detail", statement.slug),
        }


class StatementSignatureSerializer(serializers.ModelSerializer):
    organization = OrganizationRefSerializer(read_only=True)
    name_as_printed = serializers.CharField(source="printed_name", read_only=True)

    class Meta:
        model = Signature
        fields = [
            "position",
            "organization",
            "role",
            "name_as_printed",
            "joined_on",
            "withdrawn_on",
            "withdrawal_reason",
        ]

    def to_representation(self, signature):
        return {
            "position": signature.position,
            "organization": organization_ref(signature.organization, self.context["request"]),
            "role": signature.role,
            "name_as_printed": signature.printed_name,
            "joined_on": iso_date(signature.joined_on),
            "withdrawn_on": iso_date(signature.withdrawn_on),
            "withdrawal_reason": signature.withdrawal_reason,
        }


class MediaContactSerializer(serializers.ModelSerializer):
    organization = OrganizationRefSerializer(read_only=True, allow_null=True)

    class Meta:
        model = MediaContact
        fields = ["organization", "name", "email", "phone"]


class CoverageLinkSerializer(serializers.ModelSerializer):
    serializer_field_mapping = URI_FIELD_MAPPING  # the url, as a URI
    date = serializers.CharField(
        source="date_text",
        read_only=True,
        help_text="YYYY, YYYY-MM or YYYY-MM-DD: as much as is known; empty if unknown.",
    )

    class Meta:
        model = CoverageLink
        fields = ["outlet", "headline", "url", "date", "kind", "first_reported"]


class QuoteSerializer(serializers.ModelSerializer):
    organization = OrganizationRefSerializer(read_only=True, allow_null=True)
    source = CoverageLinkSerializer(read_only=True, allow_null=True)

    class Meta:
        model = Quote
        fields = ["speaker", "speaker_title", "organization", "text", "source"]


class StatementDetailSerializer(StatementListSerializer):
    serializer_field_mapping = URI_FIELD_MAPPING  # the source_url, as a URI
    topics = TopicRefSerializer(many=True, read_only=True, source="listed_topics")
    signatures = StatementSignatureSerializer(
        many=True,
        read_only=True,
        source="public_signatures",  # rows (statements.models.SignatureRow), set by the view
        help_text="Lead sponsors and signatories in printed order (with `as_of`, only those "
        "who had signed by that date and not withdrawn).",
    )
    media_contacts = MediaContactSerializer(many=True, read_only=True, source="public_contacts")
    coverage = CoverageLinkSerializer(many=True, read_only=True)
    quotes = QuoteSerializer(many=True, read_only=True)

    class Meta(StatementListSerializer.Meta):
        fields = [
            *StatementListSerializer.Meta.fields,
            "summary",
            "full_text",
            "source_url",
            "retraction_note",
            "signatures",
            "media_contacts",
            "coverage",
            "quotes",
        ]

    def to_representation(self, statement):
        # Field by field, as DRF writes a record: one statement, not a list's rows.
        return serializers.ModelSerializer.to_representation(self, statement)


class SignatureSerializer(serializers.ModelSerializer):
    """The flat fact table: one row per organisation per statement."""

    statement = StatementRefSerializer(read_only=True)
    organization = OrganizationRefSerializer(read_only=True)
    name_as_printed = serializers.CharField(source="printed_name", read_only=True)

    class Meta:
        model = Signature
        fields = [
            "id",
            "statement",
            "organization",
            "role",
            "name_as_printed",
            "position",
            "joined_on",
            "withdrawn_on",
            "withdrawal_reason",
        ]

    def to_representation(self, signature):
        request = self.context["request"]
        return {
            "id": signature.id,
            "statement": statement_ref(signature.statement, request),
            "organization": organization_ref(signature.organization, request),
            "role": signature.role,
            "name_as_printed": signature.printed_name,
            "position": signature.position,
            "joined_on": iso_date(signature.joined_on),
            "withdrawn_on": iso_date(signature.withdrawn_on),
            "withdrawal_reason": signature.withdrawal_reason,
        }


class TopicSerializer(serializers.ModelSerializer):
    url = DetailLink("api:topic-detail")
    statement_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Topic
        fields = ["slug", "name", "description", "statement_count", "url"]


class YearCountSerializer(serializers.Serializer):
    year = serializers.IntegerField()
    count = serializers.IntegerField()


class TopicDetailSerializer(TopicSerializer):
    statements_by_year = YearCountSerializer(many=True, read_only=True)
    statements = StatementRefSerializer(
        many=True,
        read_only=True,
        source="public_statements",
        help_text="The topic's 100 latest statements, newest first.",
    )
    statements_url = serializers.SerializerMethodField(
        help_text="All of the topic's statements, with every statement filter."
    )

    class Meta(TopicSerializer.Meta):
        fields = [
            *TopicSerializer.Meta.fields,
            "statements_by_year",
            "statements",
            "statements_url",
        ]

    def get_statements_url(self, topic) -> str:
        url = reverse("api:statement-list") + f"?topic={topic.slug}"
        request = self.context["request"]
        return request.build_absolute_uri(url) if request else url
