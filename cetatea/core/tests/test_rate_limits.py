"""Every public form and API is rate limited, and a limited request gets 429 with a clear
message (Open311: in its own error shape).

The counters live in the cache django-ratelimit is told to use (``RATELIMIT_USE_CACHE``).
The test points it at ``SaturatedCache``, whose every counter is already past any limit:
each request below is then the one over the limit, whatever that view's rate is. The same
requests with the ordinary cache are not limited (the control), so the 429 comes from the
limit and not from the request.
"""

from __future__ import annotations

import io
import json

import pytest
from django.core.cache.backends.locmem import LocMemCache
from django.test import Client
from django.urls import reverse
from PIL import Image

pytestmark = [pytest.mark.django_db]


class SaturatedCache(LocMemCache):
    """A cache in which every rate-limit counter is already far past its limit."""

    def add(self, key, value, timeout=None, version=None):
        return False

    def incr(self, key, delta=1, version=None):
        return 10**9

    def get(self, key, default=None, version=None):
        return 10**9


SATURATED = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "saturated": {"BACKEND": f"{__name__}.SaturatedCache", "LOCATION": "saturated"},
}


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(out, "JPEG")
    return out.getvalue()


# (what, method, URL or a function of the fixtures giving it, who: None or "citizen")
# Every view reachable anonymously or by a citizen that accepts a POST, the public APIs
# and downloads. A view added to that set belongs here.
LIMITED = [
    ("report form", "post", lambda w: reverse("portal:report"), None),
    ("photo location", "post", lambda w: reverse("portal:photo_location"), None),
    ("me too", "post", lambda w: reverse("portal:support", args=[w["case"].reference]), None),
    ("alerts", "post", lambda w: reverse("portal:alerts"), None),
    ("login link", "post", lambda w: reverse("portal:account"), None),
    ("unsubscribe", "post", lambda w: reverse("portal:unsubscribe", args=["x"]), None),
    ("feedback", "post", lambda w: reverse("portal:feedback", args=["x"]), None),
    ("map pins", "get", lambda w: reverse("portal:features"), None),
    ("street search", "get", lambda w: reverse("portal:streets") + "?q=Unirii", None),
    ("nearby cases", "get", lambda w: reverse("portal:nearby"), None),
    ("phone PIN", "post", lambda w: reverse("portal:phone_pin"), "citizen"),
    ("tax link", "post", lambda w: reverse("revenue_portal:link"), "citizen"),
    ("online petition", "post", lambda w: reverse("registry_public:online_petition"), None),
    ("registry status", "post", lambda w: reverse("registry_public:public_status"), None),
    ("open data", "get", lambda w: reverse("transparency:download", args=["cases.csv"]), None),
    ("Open311 read", "get", lambda w: "/open311/v2/services.json", None),
    ("Open311 filing", "post", lambda w: "/open311/v2/requests.xml", None),
    ("CTI events", "post", lambda w: "/api/v1/cti/not-the-token", None),
    ("robot webhook", "post", lambda w: "/api/v1/robot/not-the-token", None),
]


@pytest.fixture
def world(catalog, personas):
    from cetatea.portal.models import CitizenAccount
    from conftest import make_case, make_person

    person = make_person()
    CitizenAccount.objects.create(
        user=personas["citizen"], person=person, email="cetatean@example.org"
    )
    return {"case": make_case(latitude=46.07, longitude=23.57), "citizen": personas["citizen"]}


def _send(world, method, url, who):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.cookies["django_language"] = "en"
    if who:
        client.force_login(world[who])
    data = {"email": "a@example.org"}
    if "photo-location" in url:
        from django.core.files.uploadedfile import SimpleUploadedFile

        data = {"photo": SimpleUploadedFile("p.jpg", _jpeg(), "image/jpeg")}
    if "status" in url or url.endswith("/registratura/"):
        data = {"n": "1", "c": "x"}
    return getattr(client, method)(url, data)


@pytest.mark.parametrize(("what", "method", "url", "who"), LIMITED, ids=[x[0] for x in LIMITED])
def test_past_its_limit_a_request_gets_429(world, settings, what, method, url, who):
    settings.CACHES = SATURATED
    settings.RATELIMIT_USE_CACHE = "saturated"
    response = _send(world, method, url(world), who)
    assert response.status_code == 429, (what, response.status_code)
    body = response.content.decode()
    if url(world).startswith("/open311/"):
        fmt = "json" if url(world).endswith(".json") else "xml"
        if fmt == "json":
            assert json.loads(body)[0]["code"] == 429
        else:
            assert "<errors><error><code>429</code>" in body.replace("\n", "")
    if what != "phone PIN":  # this citizen has no PIN: the page shows how to get one
        assert "too many" in body.lower(), body[:300]


@pytest.mark.parametrize(("what", "method", "url", "who"), LIMITED, ids=[x[0] for x in LIMITED])
def test_within_its_limit_a_request_is_answered(world, what, method, url, who):
    response = _send(world, method, url(world), who)
    assert response.status_code != 429, what


def test_a_limited_lookup_answers_json_to_the_map(world, settings):
    settings.CACHES = SATURATED
    settings.RATELIMIT_USE_CACHE = "saturated"
    response = Client().get(reverse("portal:features"), HTTP_ACCEPT="application/json")
    assert response.status_code == 429
    assert response["Retry-After"] == "60"
    # Romanian first: a visitor who has not chosen a language reads it in Romanian.
    assert "Prea multe cereri" in response.json()["error"]
