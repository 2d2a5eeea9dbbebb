from rest_framework import serializers

from statements.serializers import OrganizationRefSerializer, StatementRefSerializer, statement_ref
from tracker.api import URI_FIELD_MAPPING, DetailLink, iso_date

from .models import Organization, OtherName


class OtherNameSerializer(serializers.ModelSerializer):
    class Meta:
        model = OtherName
        fields = ["name", "kind"]


class OrganizationListSerializer(serializers.ModelSerializer):
    serializer_field_mapping = URI_FIELD_MAPPING  # the website, as a URI
    url = DetailLink("api:organization-detail")
    statement_count = serializers.IntegerField(
        read_only=True, help_text="Public statements it signed."
    )

    class Meta:
        model = Organization
        fields = [
            "slug",
            "name",
            "acronym",
            "kind",
            "country",
            "website",
            "statement_count",
            "url",
        ]


class OrganizationDetailSerializer(OrganizationListSerializer):
    other_names = OtherNameSerializer(many=True, read_only=True)
    lead_count = serializers.IntegerField(read_only=True, help_text="Public statements it led.")
    withdrawn_count = serializers.IntegerField(
        read_only=True, help_text="Signatures it later withdrew."
    )
    first_signed_on = serializers.DateField(read_only=True, allow_null=True)
    last_signed_on = serializers.DateField(read_only=True, allow_null=True)
    timeline_url = DetailLink("api:organization-timeline")
    cosigners_url = DetailLink("api:organization-cosigners")

    class Meta(OrganizationListSerializer.Meta):
        fields = [
            *OrganizationListSerializer.Meta.fields,
            "description",
            "city",
            "founded_year",
            "other_names",
            "lead_count",
            "withdrawn_count",
            "first_signed_on",
            "last_signed_on",
            "timeline_url",
            "cosigners_url",
        ]


class TimelineEntrySerializer(serializers.Serializer):
    """One position the organisation took: a signature, with its statement."""

    statement = StatementRefSerializer(read_only=True)
    role = serializers.CharField(read_only=True)
    name_as_printed = serializers.CharField(source="printed_name", read_only=True)
    joined_on = serializers.DateField(read_only=True)
    withdrawn_on = serializers.DateField(read_only=True, allow_null=True)
    withdrawal_reason = serializers.CharField(read_only=True)

    def to_representation(self, signature):
        return {
            "statement": statement_ref(signature.statement, self.context["request"]),
            "role": signature.role,
            "name_as_printed": signature.printed_name,
            "joined_on": iso_date(signature.joined_on),
            "withdrawn_on": iso_date(signature.withdrawn_on),
            "withdrawal_reason": signature.withdrawal_reason,
        }


class CosignerSerializer(serializers.Serializer):
    organization = OrganizationRefSerializer(read_only=True)
    shared_count = serializers.IntegerField(read_only=True)
    first_shared_on = serializers.DateField(read_only=True)
    last_shared_on = serializers.DateField(read_only=True)
    shared_statements_url = serializers.URLField(
        read_only=True,
        help_text="The statements both signed (within the same filters): the statement list "
        "filtered by both organisations.",
    )
