from django.urls import reverse
from rest_framework import serializers

from organizations.models import Organization
from tracker.api import DetailLink

from .models import CoverageLink, MediaContact, Quote, Signature, Statement, Topic


class OrganizationRefSerializer(serializers.ModelSerializer):
    url = DetailLink("api:organization-detail")

    class Meta:
        model = Organization
        fields = ["slug", "name", "acronym", "url"]


class TopicRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Topic
        fields = ["slug", "name"]


class StatementRefSerializer(serializers.ModelSerializer):
    url = DetailLink("api:statement-detail")

    class Meta:
        model = Statement
        fields = ["slug", "title", "kind", "status", "issued_on", "url"]


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


class MediaContactSerializer(serializers.ModelSerializer):
    organization = OrganizationRefSerializer(read_only=True, allow_null=True)

    class Meta:
        model = MediaContact
        fields = ["organization", "name", "email", "phone"]


class CoverageLinkSerializer(serializers.ModelSerializer):
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
    topics = TopicRefSerializer(many=True, read_only=True)
    signatures = StatementSignatureSerializer(
        many=True,
        read_only=True,
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
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request else url
