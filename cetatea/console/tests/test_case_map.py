"""The case page's mini-map: the portal's Leaflet (served from our static files), the
case's point, and the coordinates with a link as its text alternative."""

import json
import re

from django.urls import reverse

from conftest import INSIDE, make_case


def test_a_case_with_a_point_has_a_mini_map_and_its_text_alternative(
    client, personas, catalog, settings
):
    settings.CETATEA_TILE_URL = "https://tiles.example.ro/{z}/{x}/{y}.png"
    case = make_case(latitude=INSIDE[0], longitude=INSIDE[1], address_text="Str. Mare 1")
    client.force_login(personas["staff"])
    client.cookies["django_language"] = "en"
    html = client.get(reverse("console:case", args=[case.pk])).content.decode()

    scripts = re.findall(r'<script src="([^"]+)"', html)
    assert "/static/leaflet/leaflet.js" in scripts  # from XStatic-Leaflet, never a CDN
    assert "/static/portal/common.js" in scripts and "/static/portal/case.js" in scripts
    assert all(src.startswith("/static/") for src in scripts)
    assert '<link rel="stylesheet" href="/static/leaflet/leaflet.css">' in html

    div = re.search(r'<div id="case-map"[^>]*>', html, re.S).group(0)
    assert 'data-lat="46.070000"' in div and 'data-lon="23.570000"' in div
    assert 'role="region"' in div and "aria-label=" in div
    config = json.loads(re.search(r'id="map-config"[^>]*>(.*?)</script>', html, re.S).group(1))
    assert config["tiles"] == "https://tiles.example.ro/{z}/{x}/{y}.png"

    # Under the map: the coordinates, a link to OpenStreetMap, and the address above.
    link = re.search(r'<a href="([^"]+)" id="case-coordinates">([^<]+)</a>', html)
    assert link.group(2) == "46.07000, 23.57000"
    assert link.group(1).startswith("https://www.openstreetmap.org/?mlat=46.070000&amp;mlon=")
    assert "Str. Mare 1" in html


def test_a_case_without_a_point_loads_no_map(client, personas, catalog):
    case = make_case(address_text="Str. Mare 1")
    client.force_login(personas["staff"])
    html = client.get(reverse("console:case", args=[case.pk])).content.decode()
    assert 'id="case-map"' not in html
    assert "leaflet.js" not in html and 'id="map-config"' not in html
    assert "Str. Mare 1" in html
