"""
The API's JSON is written by orjson (tracker.api.JSONRenderer): every answer must be the
bytes DRF's own JSON renderer writes for the same data, which is what partners parse.
"""

import datetime
import decimal
import json

import pytest
from django.utils.translation import gettext_lazy
from rest_framework import renderers

from tracker.api import JSONRenderer

JOINT = "2025-11-12-azerbaijan-isf-gaza-joint-statement"
ADDRESSES = [
    "/api/v1/statements/",
    f"/api/v1/statements/{JOINT}/",
    "/api/v1/organizations/",
    "/api/v1/organizations/armenian-national-committee-of-america/",
    "/api/v1/organizations/armenian-national-committee-of-america/timeline/",
    "/api/v1/organizations/armenian-national-committee-of-america/cosigners/",
    "/api/v1/signatures/",
    "/api/v1/topics/",
    "/api/v1/topics/gaza/",
    "/api/v1/statements/?page=99",  # an error answer
    "/api/v1/statements/no-such-statement/",
]


def drf(data, media_type="application/json", context=None) -> bytes:
    return renderers.JSONRenderer().render(data, media_type, context or {})


@pytest.mark.django_db
@pytest.mark.parametrize("address", ADDRESSES)
def test_every_answer_is_the_json_drf_writes(client, seeded, address):
    response = client.get(address)
    assert response["Content-Type"] == "application/json"
    assert response.content == drf(response.data)
    json.loads(response.content)


@pytest.mark.django_db
def test_an_indent_asked_for_is_honoured(client, seeded):
    response = client.get("/api/v1/topics/", HTTP_ACCEPT="application/json; indent=4")
    assert response.content.startswith(b'{\n    "')
    assert response.content == drf(response.data, "application/json; indent=4")


@pytest.mark.parametrize(
    "data",
    [
        {"at": datetime.datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=datetime.UTC)},
        {"at": datetime.datetime(2026, 1, 2, 3, 4, 5)},
        {"on": datetime.date(2026, 1, 2), "time": datetime.time(3, 4, 5)},
        {"amount": decimal.Decimal("12.50")},
        {"label": gettext_lazy("Published")},
        {"text": "line\u2028separator\u2029paragraph, “quotes”, ünïcode, \x00 and \\"},
        {1: "a number as a key"},
        {"big": 2**70},
        [("a", "tuple"), None, True, 1.5],
    ],
)
def test_values_read_as_drf_writes_them(data):
    assert JSONRenderer().render(data, "application/json", {}) == drf(data)


def test_nothing_renders_as_nothing():
    assert JSONRenderer().render(None) == drf(None) == b""
