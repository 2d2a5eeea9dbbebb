"""Who may do what: anonymous reads are rate-limited, tokens lift the limit, nobody writes."""

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.throttling import AnonRateThrottle

from .conftest import api_get

ENDPOINTS = [
    "/api/v1/statements/",
    "/api/v1/statements/2025-11-12-azerbaijan-isf-gaza-joint-statement/",
    "/api/v1/organizations/",
    "/api/v1/organizations/dawn/",
    "/api/v1/organizations/dawn/timeline/",
    "/api/v1/organizations/dawn/cosigners/",
    "/api/v1/signatures/",
    "/api/v1/topics/",
    "/api/v1/topics/gaza/",
]


@pytest.fixture
def tight_limit(monkeypatch):
    monkeypatch.setattr(AnonRateThrottle, "rate", "3/minute", raising=False)


@pytest.fixture
def partner(django_user_model):
    user = django_user_model.objects.create_user("partner", password="unused-password-1")
    return Token.objects.create(user=user)


@pytest.mark.parametrize("url", ENDPOINTS)
@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_anonymous_writes_are_refused(api, seeded, url, method):
    response = getattr(api, method)(url, {"title": "x"}, format="json")
    assert response.status_code in (401, 403, 405)
    assert "detail" in response.json()


@pytest.mark.parametrize("url", ENDPOINTS)
@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_partner_writes_are_refused(api, seeded, partner, url, method):
    api.credentials(HTTP_AUTHORIZATION=f"Token {partner.key}")
    response = getattr(api, method)(url, {"title": "x"}, format="json")
    assert response.status_code == 405
    assert response.json()["detail"].startswith("Method")


def test_anonymous_clients_are_throttled_with_retry_after(api, seeded, tight_limit):
    for _ in range(3):
        api_get(api, "/api/v1/statements/")
    response = api.get("/api/v1/statements/")
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert "Request was throttled" in response.json()["detail"]


def test_a_partner_token_lifts_the_limit(api, seeded, partner, tight_limit):
    api.credentials(HTTP_AUTHORIZATION=f"Token {partner.key}")
    for _ in range(10):
        api_get(api, "/api/v1/statements/")


def test_a_bad_token_is_refused_not_ignored(api, seeded):
    api.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    response = api.get("/api/v1/statements/")
    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid token."}


def test_staff_create_partner_tokens_in_the_admin(staff_client, django_user_model):
    user = django_user_model.objects.create_user("partner2")
    response = staff_client.post("/admin/authtoken/tokenproxy/add/", {"user": user.pk})
    assert response.status_code == 302
    assert Token.objects.filter(user=user).exists()


def test_the_schema_and_interactive_docs_are_served(api, db):
    schema = api.get("/api/v1/schema/", {"format": "json"})
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert "/api/v1/organizations/{slug}/cosigners/" in paths
    assert "/api/v1/signatures/" in paths
    docs = api.get("/api/v1/docs/")
    assert docs.status_code == 200
    # The docs page loads its scripts from this site, not from a CDN.
    html = docs.content.decode()
    assert "swagger-ui" in html and "cdn" not in html.lower()


def test_a_spoofed_forwarded_for_header_does_not_escape_the_limit(api, seeded, tight_limit):
    for i in range(3):
        response = api.get("/api/v1/statements/", HTTP_X_FORWARDED_FOR=f"10.0.0.{i}")
        assert response.status_code == 200
    response = api.get("/api/v1/statements/", HTTP_X_FORWARDED_FOR="10.0.0.99")
    assert response.status_code == 429
