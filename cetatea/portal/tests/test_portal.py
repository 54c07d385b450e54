import datetime as dt
import io
import re
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail, signing
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from cetatea.cases.models import Case, Photo
from cetatea.cases.services import case_add_note, case_change_status
from cetatea.catalog.models import CategoryQuestion
from cetatea.core.models import AuditLog
from cetatea.portal import services
from cetatea.portal.alerts import send_alerts
from cetatea.portal.forms import SUBMIT_SALT
from cetatea.portal.models import Feedback, Subscription, Supporter
from conftest import INSIDE, INSIDE_EAST, make_case, make_person

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _on_commit_runs_at_once(monkeypatch):
    """The test's transaction never commits; run after-commit work (mail) straight away."""
    from django.db import transaction

    monkeypatch.setattr(transaction, "on_commit", lambda func, using=None, robust=False: func())


@pytest.fixture(autouse=True)
def _portal_settings(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    cache.clear()  # rate-limit counters


def jpeg(size=(64, 48)) -> SimpleUploadedFile:
    buf = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buf, "JPEG")
    return SimpleUploadedFile("poza.jpg", buf.getvalue(), "image/jpeg")


def stamp(seconds_ago=30):
    return signing.dumps(timezone.now().timestamp() - seconds_ago, salt=SUBMIT_SALT)


def form_data(**overrides):
    data = {
        "category": "POTHOLE",
        "latitude": str(INSIDE[0]),
        "longitude": str(INSIDE[1]),
        "title": "Groapă adâncă",
        "description": "În fața blocului 5.",
        "email": "",
        "name": "",
        "phone": "",
        "stamp": stamp(),
        "submission_key": "k-1",
    }
    data.update(overrides)
    return data


def submit(client, **overrides):
    files = overrides.pop("photos", None)
    data = form_data(**overrides)
    if files is not None:
        data["photos"] = files
    return client.post(reverse("portal:report"), data)


def link_in(message) -> str:
    return re.search(r"http://\S+", message.body).group(0).replace("http://127.0.0.1:8000", "")


# --- filing -----------------------------------------------------------------------------------


def test_report_form_page_renders_with_categories_grouped(client, catalog):
    response = client.get(reverse("portal:report"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Gropi" in html and 'name="submission_key"' in html


def test_anonymous_report_without_email_is_public_at_once(client, catalog):
    response = submit(client)
    case = Case.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(
        f"/cases/{case.reference}/"
    )
    assert case.channel == "map" and case.publication == "public"
    assert case.regime == "ticket" and case.area == catalog["centre"]


def test_report_with_email_is_confirmed_by_link_before_it_is_public(client, catalog):
    response = submit(client, email="Ana@Example.ro", name="Ana Pop")
    case = Case.objects.get()
    assert case.publication == "pending" and case.contact_email == "ana@example.ro"
    assert response["Location"].endswith("/thanks/")
    assert client.get(reverse("portal:case", args=[case.reference])).status_code == 404
    assert len(mail.outbox) == 1 and case.reference in mail.outbox[0].subject
    confirmed = client.get(link_in(mail.outbox[0]))
    case.refresh_from_db()
    assert confirmed.status_code == 302 and case.publication == "public"
    assert len(mail.outbox) == 2  # the acknowledgement with the case's link
    assert f"/cases/{case.reference}/" in mail.outbox[1].body


def test_expired_confirmation_link_changes_nothing(client, catalog):
    submit(client, email="ana@example.ro")
    link = link_in(mail.outbox[0])
    with time_machine.travel(timezone.now() + dt.timedelta(days=8)):
        response = client.get(link)
    assert (
        response.status_code == 400
        and "expired" in response.content.decode().lower()
        or ("expirat" in response.content.decode().lower())
    )
    assert Case.objects.get().publication == "pending"


def test_category_without_email_confirmation_publishes_directly(client, catalog):
    catalog["pothole"].confirm_by_email = False
    catalog["pothole"].save()
    submit(client, email="ana@example.ro")
    assert Case.objects.get().publication == "public"
    assert "/cases/" in mail.outbox[0].body


def test_logged_in_citizen_is_not_asked_to_confirm(client, catalog):
    services.login_link_request(email="ion@example.ro", name="Ion Pop")
    client.get(link_in(mail.outbox[0]))
    mail.outbox.clear()
    submit(client)
    case = Case.objects.get()
    assert case.publication == "public"
    assert case.requester.display_name == "Pop Ion"
    assert case.regime == "petition"  # an identified requester


def test_double_submit_files_one_case(client, catalog):
    first = submit(client)
    second = submit(client)
    assert Case.objects.count() == 1
    assert first["Location"] == second["Location"]


@pytest.mark.parametrize(
    "overrides, needle",
    [
        ({"latitude": "44.43", "longitude": "26.10"}, "outside the city"),
        ({"category": ""}, "category"),
        ({"latitude": "", "longitude": ""}, "place"),
        ({"description": "x" * 100_000}, "longer than"),
        ({"title": ""}, "title"),
        ({"email": "not-an-email"}, "e-mail"),
    ],
)
def test_bad_report_gets_a_clear_message_and_files_nothing(client, catalog, overrides, needle):
    client.cookies["django_language"] = "en"
    response = submit(client, **overrides)
    assert response.status_code == 400
    assert needle in response.content.decode().lower()
    assert Case.objects.count() == 0


def test_error_messages_are_in_romanian_by_default(client, catalog):
    response = submit(client, latitude="44.43", longitude="26.10")
    assert response.status_code == 400
    assert "în afara" in response.content.decode()  # "outside" in Romanian


def test_pdf_renamed_jpg_is_refused_and_nothing_filed(client, catalog):
    fake = SimpleUploadedFile("poza.jpg", b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n", "image/jpeg")
    response = submit(client, photos=[fake])
    assert response.status_code == 400
    assert Case.objects.count() == 0 and Photo.objects.count() == 0


def test_report_with_photo_keeps_it_and_processes_it(client, catalog):
    submit(client, photos=[jpeg()])
    photo = Photo.objects.get()
    assert photo.status == "ready" and photo.case == Case.objects.get()


def test_category_that_requires_a_photo(client, catalog):
    catalog["pothole"].requires_photo = True
    catalog["pothole"].save()
    client.cookies["django_language"] = "en"
    response = submit(client)
    assert response.status_code == 400 and "needs a photo" in response.content.decode()


def test_spam_is_refused_without_a_case(client, catalog):
    client.cookies["django_language"] = "en"
    honeypot = submit(client, website="http://spam.example")
    too_fast = submit(client, stamp=stamp(seconds_ago=0), submission_key="k-2")
    forged = submit(client, stamp="nonsense", submission_key="k-3")
    for response in (honeypot, too_fast, forged):
        assert response.status_code == 400 and "automated" in response.content.decode()
    assert Case.objects.count() == 0


def test_anonymous_submissions_are_rate_limited(client, catalog):
    for i in range(20):
        assert submit(client, submission_key=f"k{i}").status_code == 302
    response = submit(client, submission_key="k-last")
    assert response.status_code == 429
    assert Case.objects.count() == 20


# --- extra questions ---------------------------------------------------------------------------


@pytest.fixture
def questions(catalog):
    CategoryQuestion.objects.create(
        category=catalog["pothole"],
        code="depth",
        label_ro="Adâncime (cm)",
        label_en="Depth",
        datatype="number",
        required=True,
    )
    CategoryQuestion.objects.create(
        category=catalog["pothole"],
        code="lane",
        label_ro="Pe ce bandă?",
        label_en="Which lane?",
        datatype="singlevaluelist",
        required=False,
        choices=[
            {"key": "left", "name_ro": "Stânga", "name_en": "Left"},
            {"key": "right", "name_ro": "Dreapta", "name_en": "Right"},
        ],
    )


def test_extra_questions_are_validated_and_stored(client, catalog, questions):
    client.cookies["django_language"] = "en"
    missing = submit(client)
    assert missing.status_code == 400 and "Please answer" in missing.content.decode()
    wrong = submit(client, **{"attribute[depth]": "ten"})
    assert wrong.status_code == 400 and "not a number" in wrong.content.decode()
    bad_choice = submit(client, **{"attribute[depth]": "10", "attribute[lane]": "middle"})
    assert bad_choice.status_code == 400
    assert Case.objects.count() == 0
    submit(client, **{"attribute[depth]": "10", "attribute[lane]": "left"})
    case = Case.objects.get()
    assert case.answers == {"depth": 10, "lane": "left"}
    page = client.get(reverse("portal:case", args=[case.reference])).content.decode()
    assert "Which lane?" in page and "Left" in page


# --- nearby, me too -----------------------------------------------------------------------------


def test_similar_open_cases_nearby_are_offered_before_submit(client, catalog):
    near = make_case(
        latitude=46.0701, longitude=23.5701, publication="public", title="Groapa veche"
    )
    make_case(latitude=46.0701, longitude=23.5701, title="Privat")  # not public
    make_case(
        latitude=INSIDE_EAST[0], longitude=INSIDE_EAST[1], publication="public", title="Departe"
    )
    make_case(
        category="LEAK",
        latitude=46.0701,
        longitude=23.5701,
        publication="public",
        title="Alta categorie",
    )
    html = client.get(
        reverse("portal:nearby"), {"category": "POTHOLE", "lat": "46.0700", "lon": "23.5700"}
    ).content.decode()
    assert near.reference in html
    assert "Privat" not in html and "Departe" not in html and "Alta categorie" not in html


def test_me_too_counts_each_email_once_and_subscribes(client, catalog):
    case = make_case(latitude=INSIDE[0], longitude=INSIDE[1], publication="public")
    url = reverse("portal:support", args=[case.reference])
    client.post(url, {"email": "a@example.ro"})
    client.post(url, {"email": "A@example.ro"})
    client.post(url, {"email": "b@example.ro"})
    case.refresh_from_db()
    assert case.supporters_count == 2 and Supporter.objects.count() == 2
    assert Subscription.objects.filter(case=case, kind="case").count() == 2


# --- the public page -------------------------------------------------------------------------


def test_public_page_shows_replies_but_never_internal_notes_or_contacts(client, catalog, personas):
    case = make_case(
        latitude=INSIDE[0],
        longitude=INSIDE[1],
        publication="public",
        requester=make_person(phones=["0722123456"]),
    )
    case.contact_email = "secret@example.ro"
    case.save(update_fields=["contact_email"])
    case_add_note(case_id=case.pk, text="Notă internă secretă", actor=personas["staff"])
    case_add_note(case_id=case.pk, text="Echipa vine mâine", actor=personas["staff"], public=True)
    html = client.get(reverse("portal:case", args=[case.reference])).content.decode()
    assert "Echipa vine mâine" in html
    assert "Notă internă secretă" not in html
    assert "secret@example.ro" not in html and "0722" not in html and "Popescu" not in html
    assert personas["staff"].username not in html


def test_private_and_unknown_cases_are_not_found(client, catalog):
    private = make_case()
    assert client.get(reverse("portal:case", args=[private.reference])).status_code == 404
    assert client.get(reverse("portal:case", args=["AB-2020-999999"])).status_code == 404
    assert client.get(reverse("portal:case", args=["nonsense"])).status_code == 404


# --- map and list -----------------------------------------------------------------------------


def test_map_returns_pins_in_the_box_newest_first(client, catalog):
    for i in range(3):
        make_case(latitude=46.07 + i * 0.001, longitude=23.57, publication="public", title=f"P{i}")
    make_case(latitude=INSIDE_EAST[0], longitude=INSIDE_EAST[1], publication="public", title="out")
    make_case(latitude=46.071, longitude=23.571)  # private
    data = client.get(
        reverse("portal:features"), {"bbox": "23.56,46.06,23.58,46.08", "zoom": "17"}
    ).json()
    assert data["kind"] == "pins"
    assert [p["title"] for p in data["pins"]] == ["P2", "P1", "P0"]


def test_map_gets_clusters_when_zoomed_out(client, catalog):
    for i in range(5):
        make_case(latitude=46.07 + i * 0.0001, longitude=23.57, publication="public")
    make_case(latitude=INSIDE_EAST[0], longitude=INSIDE_EAST[1], publication="public")
    data = client.get(
        reverse("portal:features"), {"bbox": "23.50,46.00,23.65,46.12", "zoom": "12"}
    ).json()
    assert data["kind"] == "clusters"
    assert sum(c["count"] for c in data["clusters"]) == 6
    assert 2 <= len(data["clusters"]) <= 3  # the five neighbours fall in one or two cells


def test_map_filters_by_category_state_and_age(client, catalog):
    old = make_case(
        latitude=46.07,
        longitude=23.57,
        publication="public",
        registered_at=timezone.now() - dt.timedelta(days=200),
    )
    make_case(category="LEAK", latitude=46.07, longitude=23.57, publication="public")
    closed = make_case(latitude=46.07, longitude=23.57, publication="public")
    case_change_status(case_id=closed.pk, status="fixed", actor=None)
    url = reverse("portal:features")
    box = {"bbox": "23.56,46.06,23.58,46.08", "zoom": "17"}
    assert len(client.get(url, box).json()["pins"]) == 2  # last 90 days
    assert len(client.get(url, {**box, "age": "all"}).json()["pins"]) == 3
    assert len(client.get(url, {**box, "category": "LEAK"}).json()["pins"]) == 1
    assert len(client.get(url, {**box, "state": "closed"}).json()["pins"]) == 1
    assert old.reference in str(client.get(url, {**box, "age": "all"}).json())


@pytest.mark.parametrize("bbox", ["", "1,2,3", "a,b,c,d", "23.6,46.0,23.5,46.1", "0,0,0,0"])
def test_map_refuses_a_bad_box(client, bbox):
    response = client.get(reverse("portal:features"), {"bbox": bbox})
    assert response.status_code == 400 and "error" in response.json()


def test_list_view_is_paginated_with_a_query_budget(client, catalog, django_assert_max_num_queries):
    for i in range(30):
        make_case(latitude=46.07, longitude=23.57, publication="public", title=f"L{i}")
    with django_assert_max_num_queries(6):
        first = client.get(reverse("portal:list"))
    assert first.content.decode().count("<tr>") == 26
    second = client.get(reverse("portal:list"), {"page": "2"})
    assert second.content.decode().count("<tr>") == 6


def test_map_page_renders_and_loads_leaflet_from_the_package(client, catalog):
    from django.contrib.staticfiles import finders

    html = client.get(reverse("portal:home")).content.decode()
    assert "leaflet/leaflet.js" in html
    assert finders.find("leaflet/leaflet.js") and finders.find("leaflet/leaflet.css")
    assert "<script>" not in html  # no inline scripts (strict CSP)


# --- subscriptions and alerts -------------------------------------------------------------


def test_area_alert_is_confirmed_then_sends_new_cases_once(client, catalog):
    client.post(
        reverse("portal:alerts"), {"email": "vecin@example.ro", "area": catalog["centre"].pk}
    )
    sub = Subscription.objects.get()
    assert sub.confirmed_at is None
    client.get(link_in(mail.outbox[0]))
    sub.refresh_from_db()
    assert sub.confirmed_at is not None
    mail.outbox.clear()
    case = make_case(latitude=INSIDE[0], longitude=INSIDE[1], publication="public")
    make_case(
        latitude=INSIDE_EAST[0], longitude=INSIDE_EAST[1], publication="public", title="other area"
    )
    assert send_alerts() == 1
    assert case.reference in mail.outbox[0].body and "other area" not in mail.outbox[0].body
    assert send_alerts() == 0  # nothing new
    unsubscribe = re.findall(r"http://\S+/alerts/stop/\S+", mail.outbox[0].body)[0]
    client.post(unsubscribe.replace("http://127.0.0.1:8000", ""))
    assert not Subscription.objects.exists()


def test_reporter_is_told_of_updates_and_asked_after_closure(client, catalog, personas):
    catalog["pothole"].confirm_by_email = False
    catalog["pothole"].save()
    submit(client, email="ana@example.ro")
    case = Case.objects.get()
    mail.outbox.clear()
    case_change_status(case_id=case.pk, status="fixed", actor=personas["staff"], text="Reparat")
    assert send_alerts() == 1
    body = mail.outbox[0].body
    assert "Reparat" in body and "/feedback/" in body


# --- after closure -------------------------------------------------------------------------------


def test_reporter_says_not_fixed_and_the_case_reopens(client, catalog, personas):
    case = make_case(latitude=INSIDE[0], longitude=INSIDE[1], publication="public")
    case_change_status(case_id=case.pk, status="fixed", actor=personas["staff"])
    link = services.feedback_link(case).replace("http://127.0.0.1:8000", "")
    response = client.post(link, {"fixed": "no", "satisfaction": "2", "comment": "Tot e groapă"})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == "reopened"
    assert Feedback.objects.get().satisfaction == 2
    again = client.post(link, {"fixed": "yes"})
    assert again.status_code == 400


def test_after_the_window_feedback_is_kept_but_does_not_reopen(client, catalog, personas, settings):
    case = make_case(latitude=INSIDE[0], longitude=INSIDE[1], publication="public")
    case = case_change_status(case_id=case.pk, status="fixed", actor=personas["staff"])
    with time_machine.travel(timezone.now() + dt.timedelta(days=settings.CETATEA_REOPEN_DAYS + 2)):
        services.feedback_submit(case=case, fixed="no", satisfaction=1)
    case.refresh_from_db()
    assert case.status == "fixed" and Feedback.objects.count() == 1


# --- citizen account -----------------------------------------------------------------------------


def test_account_lists_cases_from_every_channel(client, catalog):
    person = make_person(emails=["ion@example.ro"])
    make_case(channel="phone", requester=person, title="Sunat la primărie")
    client.post(reverse("portal:account"), {"email": "ion@example.ro"})
    # outbox[0] may be the phone case's acknowledgement (cetatea.notify); the link is last.
    response = client.get(link_in(mail.outbox[-1]))
    assert response.status_code == 302
    html = client.get(reverse("portal:account")).content.decode()
    assert "Sunat la primărie" in html


def test_bad_login_link_is_refused(client):
    response = client.get(reverse("portal:login_verify", args=["forged"]))
    assert response.status_code == 400


# --- moderation ---------------------------------------------------------------------------------


def test_moderator_hides_and_edits_with_the_original_kept(client, catalog, personas):
    case = make_case(
        latitude=INSIDE[0], longitude=INSIDE[1], publication="public", title="Text urât"
    )
    url = reverse("portal:moderate", args=[case.reference])
    client.force_login(personas["staff"])
    client.post(url, {"action": "edit", "reason": "limbaj", "title": "Groapă", "description": ""})
    case.refresh_from_db()
    assert case.title == "Groapă"
    audit = AuditLog.objects.get(action="moderation")
    assert audit.details["original"]["title"] == "Text urât"
    client.post(url, {"action": "hide", "reason": "spam"})
    assert client.get(reverse("portal:case", args=[case.reference])).status_code == 404


def test_moderator_hides_an_update(client, catalog, personas):
    case = make_case(latitude=INSIDE[0], longitude=INSIDE[1], publication="public")
    event = case_add_note(
        case_id=case.pk, text="Răspuns greșit", actor=personas["staff"], public=True
    )
    client.force_login(personas["manager"])
    client.post(
        reverse("portal:moderate", args=[case.reference]),
        {"action": "hide_event", "event": event.pk, "reason": "greșeală"},
    )
    client.logout()
    assert (
        "Răspuns greșit"
        not in client.get(reverse("portal:case", args=[case.reference])).content.decode()
    )


@pytest.mark.parametrize("who", ["citizen", "operator", "crew"])
def test_moderation_is_refused_to_other_roles(client, catalog, personas, who):
    case = make_case(latitude=INSIDE[0], longitude=INSIDE[1], publication="public")
    client.force_login(personas[who])
    response = client.post(
        reverse("portal:moderate", args=[case.reference]), {"action": "hide", "reason": "x"}
    )
    assert response.status_code == 403
    case.refresh_from_db()
    assert case.publication == "public"


# --- feeds ------------------------------------------------------------------------------


def test_feeds_of_a_case_and_an_area(client, catalog, personas):
    case = make_case(latitude=INSIDE[0], longitude=INSIDE[1], publication="public", title="Feed me")
    case_change_status(
        case_id=case.pk, status="in_progress", actor=personas["staff"], text="Pornit"
    )
    feed = client.get(reverse("portal:feed_case", args=[case.reference]))
    assert feed.status_code == 200 and "Pornit" in feed.content.decode()
    assert feed["Content-Type"].startswith("application/atom+xml")
    area = client.get(reverse("portal:feed_area", args=["cetate"])).content.decode()
    assert "Feed me" in area
    around = client.get(
        reverse("portal:feed_around"), {"lat": INSIDE[0], "lon": INSIDE[1], "radius": 300}
    )
    assert "Feed me" in around.content.decode()


def test_radius_alert_around_a_street(client, catalog):
    from cetatea.catalog.models import Street
    from cetatea.core.text import name_key

    Street.objects.create(
        name="Calea Moților", name_key=name_key("Calea Moților"), latitude=46.070, longitude=23.570
    )
    client.post(
        reverse("portal:alerts"),
        {"email": "vecin@example.ro", "street": "motilor", "radius_m": 300},
    )
    sub = Subscription.objects.get()
    assert (sub.kind, sub.radius_m, sub.latitude) == ("radius", 300, 46.070)
    client.get(link_in(mail.outbox[0]))
    mail.outbox.clear()
    near = make_case(latitude=46.0705, longitude=23.5705, publication="public", title="Aproape")
    make_case(latitude=46.0790, longitude=23.5790, publication="public", title="Departe")
    assert send_alerts() == 1
    assert near.reference in mail.outbox[0].body and "Departe" not in mail.outbox[0].body
    nowhere = client.post(reverse("portal:alerts"), {"email": "x@example.ro", "street": "zzzz"})
    assert nowhere.status_code == 400


def test_moderator_redacts_a_photo_keeping_the_original(client, catalog, personas):
    from cetatea.cases.photos import photo_accept, process_photo

    case = make_case(latitude=INSIDE[0], longitude=INSIDE[1], publication="public")
    photo = photo_accept(case=case, upload=jpeg((200, 100)))
    process_photo(photo.pk)
    client.force_login(personas["staff"])
    url = reverse("portal:moderate", args=[case.reference])
    bad = client.post(
        url, {"action": "redact_photo", "photo": photo.pk, "reason": "față", "boxes": "zece"}
    )
    assert bad.status_code == 400
    client.post(
        url,
        {"action": "redact_photo", "photo": photo.pk, "reason": "față", "boxes": "0, 0, 50, 100"},
    )
    photo.refresh_from_db()
    assert photo.is_redacted and photo.original.name
    with photo.full.open("rb") as fh:
        image = Image.open(fh)
        assert image.getpixel((10, 10)) == (0, 0, 0)
    assert AuditLog.objects.filter(action="moderation", object_repr__contains="redacted").exists()


def test_categories_are_grouped_by_department(client, catalog):
    html = client.get(reverse("portal:report")).content.decode()
    assert '<optgroup label="Drumuri">' in html and '<optgroup label="Apă-Canal">' in html


def test_photo_gps_is_offered_to_place_the_pin_and_nothing_is_kept(client, catalog):
    from cetatea.cases.tests.test_photos import GPS, LATITUDE, LONGITUDE, exif_with

    buf = io.BytesIO()
    Image.new("RGB", (40, 30)).save(buf, "JPEG", exif=exif_with(gps=GPS).tobytes())
    url = reverse("portal:photo_location")
    found = client.post(url, {"photo": SimpleUploadedFile("p.jpg", buf.getvalue())}).json()
    assert found["found"] and abs(found["lat"] - LATITUDE) < 1e-4
    assert abs(found["lon"] - LONGITUDE) < 1e-4
    plain = client.post(url, {"photo": jpeg()}).json()
    assert plain == {"found": False}
    pdf = client.post(url, {"photo": SimpleUploadedFile("p.jpg", b"%PDF-1.4 x")})
    assert pdf.status_code == 400
    assert Photo.objects.count() == 0


@pytest.mark.parametrize(
    "today",
    [
        # 90 days back is 20 Dec: the period holds 12 of its first month's 31 days, which
        # are grouped live and added to the whole months...
        dt.datetime(2026, 3, 20, 9, tzinfo=ZoneInfo("Europe/Bucharest")),
        # ...and 5 Dec: it holds most of December, so the whole month is taken and the
        # four days before the period are grouped live and taken away.
        dt.datetime(2026, 3, 5, 9, tzinfo=ZoneInfo("Europe/Bucharest")),
    ],
)
def test_short_period_clusters_are_exact_at_the_period_edge(catalog, today):
    """30 and 90 days read the month cells too; the partial first month is corrected by
    a live count of at most half a month, so the clusters equal grouping the cases."""
    from cetatea.portal.selectors import AGES, MapFilters, _filtered, _live_cells, _rollup_cells

    with time_machine.travel(today, tick=False):
        for i in range(70):  # a case every 2 days (and some hours) for 140 days
            make_case(
                category="LEAK" if i % 4 == 0 else "POTHOLE",
                latitude=46.061 + (i % 9) * 0.002,
                longitude=23.561 + (i % 7) * 0.004,
                publication="public",
                registered_at=today - dt.timedelta(days=2 * i, hours=i % 5),
            )
        for i in range(0, 70, 6):
            case = Case.objects.order_by("id")[i]
            case_change_status(case_id=case.pk, status="fixed", actor=None)
        city = (23.50, 46.00, 23.65, 46.12)
        for level in (6, 8, 10):
            for filters in (
                MapFilters(),
                MapFilters(age="30"),
                MapFilters(state="closed"),
                MapFilters(categories=("LEAK",), state="open"),
            ):
                kept = _rollup_cells(city, filters, level, AGES[filters.age])
                live = _live_cells(_filtered(city, filters), level)
                as_counts = lambda cells: {  # noqa: E731
                    k: (v["n"], v["open_n"]) for k, v in cells.items() if v["n"]
                }
                assert as_counts(kept) == as_counts(live), (level, filters)
                assert sum(v["n"] for v in live.values()) > 0


def test_long_period_clusters_come_from_the_rollup_and_match_the_cases(client, catalog, personas):
    """Cells kept by the services give the same clusters as grouping the cases."""
    from cetatea.cases import maprollup
    from cetatea.cases.models import MapCell
    from cetatea.portal.selectors import MapFilters, _live_cells, _rollup_cells, public_cases

    # Start from cells that match the cases (a row left behind by another test's server
    # thread would otherwise count here and not among the cases).
    maprollup.rebuild()
    now = timezone.now()
    cases = []
    for i in range(12):
        cases.append(
            make_case(
                category="LEAK" if i % 3 == 0 else "POTHOLE",
                latitude=46.061 + i * 0.0015,
                longitude=23.561 + (i % 5) * 0.006,
                publication="public",
                registered_at=now - dt.timedelta(days=40 * i),
            )
        )
    private = make_case(latitude=46.07, longitude=23.57)  # never counted
    case_change_status(case_id=cases[1].pk, status="fixed", actor=None)
    case_change_status(case_id=cases[2].pk, status="in_progress", actor=None)
    services.moderate_case(case_id=cases[3].pk, actor=personas["staff"], reason="x", hide=True)
    from cetatea.cases.services import case_merge

    case_merge(duplicate_id=cases[4].pk, original_id=cases[5].pk, actor=None)
    assert private.pk

    city = (23.50, 46.00, 23.65, 46.12)
    for level in (7, 9, 11):
        for filters in (
            MapFilters(age="all"),
            MapFilters(age="365"),
            MapFilters(age="all", state="open"),
            MapFilters(categories=("LEAK",), age="all"),
        ):
            from cetatea.portal.selectors import AGES, _filtered

            kept = _rollup_cells(city, filters, level, AGES[filters.age])
            live = _live_cells(_filtered(city, filters), level)
            as_counts = lambda cells: {  # noqa: E731
                k: (v["n"], v["open_n"]) for k, v in cells.items() if v["n"]
            }
            assert as_counts(kept) == as_counts(live), (level, filters)
    # A rebuild from scratch gives the same cells as the incremental upkeep.
    before = set(
        MapCell.objects.filter(n__gt=0).values_list(
            "level", "category_key", "month", "cx", "cy", "is_open", "n"
        )
    )
    maprollup.rebuild()
    after = set(
        MapCell.objects.values_list("level", "category_key", "month", "cx", "cy", "is_open", "n")
    )
    assert before == after
    assert public_cases().count() == 11  # 12 public, one hidden by a moderator
