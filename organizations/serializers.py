"""
How the API shows an organisation itself. Its positions and co-signers are signatures, shown by
statements/organization_api.py, which also serves these.
"""

from rest_framework import serializers

from tracker.api import URI_FIELD_MAPPING, DetailLink

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
