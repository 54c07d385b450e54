"""The receipt (PDF text and QR code), the public status page and the printed register."""

from __future__ import annotations

import datetime as dt
import io
import re
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pypdf
import pytest
import time_machine
import zxingcpp
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse

from cetatea.core import roles
from cetatea.registry import documents, pdf
from cetatea.registry.choices import RegistryChannel, SenderKind
from cetatea.registry.services import (
    registry_entry_answer,
    registry_entry_extend,
    registry_entry_register,
)
from conftest import make_cnp, make_person, make_user

TZ = ZoneInfo("Europe/Bucharest")
SUMMARY = "Cerere privind repararea trotuarului de pe str. Trandafirilor nr. 3"


def at(y, m, d, h=10, mi=0):
    return dt.datetime(y, m, d, h, mi, tzinfo=TZ)


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    """The personas' passwords are hashed with a fast hasher: PBKDF2 costs a second per
    user on this machine, and these tests only use force_login."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


def register(registry, point="rg", kind="petitie", when=None, **kwargs):
    kwargs.setdefault("summary", SUMMARY)
    kwargs.setdefault("sender_name", "Popescu Ion")
    kwargs.setdefault("sender_address", "Str. Trandafirilor 3, Alba Iulia")
    with time_machine.travel(when or at(2026, 3, 12, 10, 15), tick=False):
        return registry_entry_register(
            point=registry["points"][point], doc_type=registry["types"][kind], **kwargs
        )


def english(client, user=None):
    if user is not None:
        client.force_login(user)
    client.cookies["django_language"] = "en"
    return client


def pdf_text(content: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(content))
    return "\n".join(page.extract_text() for page in reader.pages)


def flat(text: str) -> str:
    return " ".join(text.split())


def qr_codes(content: bytes) -> list[str]:
    reader = pypdf.PdfReader(io.BytesIO(content))
    found = []
    for page in reader.pages:
        for image in page.images:
            found += [b.text for b in zxingcpp.read_barcodes(image.image.convert("L"))]
    return found


@pytest.fixture
def clerk(registry, personas):
    registry["points"]["rg"].clerks.add(personas["clerk"])
    return personas["clerk"]


# --- the receipt -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_receipt_has_number_date_term_department_code_and_a_qr_that_opens_the_status(
    client, registry, clerk, settings
):
    settings.CETATEA_SITE_URL = "https://crm.apulum.ro"
    cnp = make_cnp()
    person = make_person(national_id=cnp)
    # 12 March + 30 days = Saturday 11 April; Sunday 12 and Monday 13 April 2026 are
    # Orthodox Easter: the term rolls to Tuesday 14 April.
    entry = register(registry, person=person, actor=clerk)

    response = english(client, clerk).get(reverse("registry:receipt", args=[entry.pk]))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'inline; filename="chitanta-RG-1-2026.pdf"'
    # A PDF shown inline: no sandbox (Chromium's viewer refuses one), but nothing loads.
    assert response["Content-Security-Policy"].startswith("default-src 'none'")
    assert response["X-Content-Type-Options"] == "nosniff"
    text = flat(pdf_text(response.content))
    assert "Primăria Municipiului Alba Iulia" in text
    assert "Registratura generală" in text
    assert "RG-1/2026" in text
    assert "12.03.2026 10:15" in text
    assert "14.04.2026" in text and "OG 27/2002 art. 8" in text
    assert "Relații cu publicul" in text
    assert entry.status_code in text
    assert "Petiție" in text and "trotuarului" in text
    assert cnp not in text and cnp[:7] not in text
    assert "Trandafirilor 3, Alba Iulia" not in text  # the sender's address stays private

    [url] = qr_codes(response.content)
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}" == "https://crm.apulum.ro"
    assert parts.path == reverse("registry_public:public_status") == "/registratura/"
    assert parse_qs(parts.query) == {"n": ["RG-1/2026"], "c": [entry.status_code]}

    public = english(client.__class__()).get(f"{parts.path}?{parts.query}")
    assert public.status_code == 200
    page = public.content.decode()
    assert "RG-1/2026" in page and "Being solved" in page and "14.04.2026" in page


@pytest.mark.django_db
def test_receipt_of_an_extended_information_request_and_of_a_letter_without_term(
    client, registry, clerk, personas
):
    request = register(registry, kind="info-544", sender_email="ana@example.ro")
    with time_machine.travel(at(2026, 3, 16), tick=False):
        registry_entry_extend(
            entry_id=request.pk, days=20, reason="Volum mare", actor=personas["manager"]
        )
    letter = register(
        registry, kind="corespondenta", sender_kind=SenderKind.INSTITUTION, sender_name="ANAF"
    )
    english(client, clerk)

    text = flat(pdf_text(client.get(reverse("registry:receipt", args=[request.pk])).content))
    # 12 March + 30 days = 11 April, rolled past Easter to 14 April.
    assert "14.04.2026" in text
    assert "Law 544/2001 art. 7" in text and "extended by 20 days" in text

    text = flat(pdf_text(client.get(reverse("registry:receipt", args=[letter.pk])).content))
    assert "No answer is due" in text
    assert "Registered (no answer is due)" in text


@pytest.mark.django_db
def test_receipt_prints_the_phone_line_when_one_is_set(client, registry, clerk, settings):
    settings.CETATEA_STATUS_PHONE = "0258 819 462"
    entry = register(registry)
    response = english(client, clerk).get(reverse("registry:receipt", args=[entry.pk]))
    assert "0258 819 462" in pdf_text(response.content)


@pytest.mark.django_db
def test_receipt_only_for_those_who_may_read_the_entry(client, registry, clerk, personas):
    entry = register(registry, department=registry["roads"])
    url = reverse("registry:receipt", args=[entry.pk])

    response = client.get(url)
    assert response.status_code == 302 and "/login" in response["Location"]
    for user in (personas["citizen"], personas["operator"], personas["crew"]):
        client.force_login(user)
        assert client.get(url).status_code == 403, user
    other_clerk = make_user("clerk2", roles.REGISTRY_CLERK)
    registry["points"]["dv"].clerks.add(other_clerk)
    client.force_login(other_clerk)
    assert client.get(url).status_code == 403
    client.force_login(personas["staff"])  # a department worker with no department
    assert client.get(url).status_code == 403
    for user in (clerk, personas["manager"], personas["admin"]):
        client.force_login(user)
        assert client.get(url).status_code == 200, user
    client.force_login(personas["manager"])
    assert client.get(reverse("registry:receipt", args=[entry.pk + 999])).status_code == 404


def test_missing_fonts_give_an_error_naming_the_setting(settings, tmp_path):
    settings.CETATEA_PDF_FONT_DIR = str(tmp_path)
    with pytest.raises(ImproperlyConfigured, match="CETATEA_PDF_FONT_DIR"):
        pdf.fonts()


# --- the public status page ------------------------------------------------------------------


STATUS_URL = "/registratura/"


@pytest.mark.django_db
def test_status_page_shows_only_number_date_status_and_term(client, registry):
    entry = register(registry, sender_email="ion.popescu@example.ro", department=registry["roads"])
    response = english(client).post(STATUS_URL, {"n": "RG-1/2026", "c": entry.status_code})

    assert response.status_code == 200
    assert response["X-Robots-Tag"] == "noindex"
    assert "no-store" in response["Cache-Control"] or "no-cache" in response["Cache-Control"]
    result = re.search(
        r'<section[^>]*id="status-result".*?</section>', response.content.decode(), re.S
    ).group(0)
    assert "RG-1/2026" in result and "12.03.2026" in result
    assert "Being solved" in result and "14.04.2026" in result
    page = response.content.decode()
    for private in (
        "Popescu",
        "Trandafirilor",
        "ion.popescu@example.ro",
        "trotuarului",
        "Drumuri",
        "Roads",
        "Petition",
    ):
        assert private not in page, private


@pytest.mark.django_db
def test_status_page_after_the_answer_shows_the_answer_date(client, registry, clerk):
    entry = register(registry)
    with time_machine.travel(at(2026, 3, 20), tick=False):
        registry_entry_answer(entry_id=entry.pk, summary="Trotuarul a fost reparat.", actor=clerk)
    # The code is read from paper: lower case, with a space, still matches.
    code = entry.status_code.lower()
    response = english(client).get(STATUS_URL, {"n": "rg-1/2026", "c": f"{code[:4]} {code[4:]}"})
    page = response.content.decode()
    assert response.status_code == 200
    assert "Answered" in page and "20.03.2026" in page
    assert "14.04.2026" not in page
    assert "reparat" not in page


@pytest.mark.django_db
def test_wrong_code_and_unknown_number_get_the_same_answer(client, registry):
    entry = register(registry)
    wrong = "A" * 8 if entry.status_code != "A" * 8 else "B" * 8
    english(client)
    known = client.post(STATUS_URL, {"n": "RG-1/2026", "c": wrong})
    unknown = client.post(STATUS_URL, {"n": "RG-7/2026", "c": wrong})
    other_year = client.post(STATUS_URL, {"n": "RG-1/2025", "c": entry.status_code})

    assert known.status_code == unknown.status_code == other_year.status_code == 404
    first = known.content.decode().replace("RG-1/2026", "N")
    second = unknown.content.decode().replace("RG-7/2026", "N")
    strip_csrf = re.compile(r"\b[A-Za-z0-9]{64}\b")  # the page's CSRF tokens
    assert strip_csrf.sub("", first) == strip_csrf.sub("", second)
    assert "We found no document with this number and this code" in first
    assert 'id="status-result"' not in first
    assert 'id="status-result"' not in other_year.content.decode()


@pytest.mark.django_db
def test_status_page_form_and_malformed_number(client, registry):
    english(client)
    empty = client.get(STATUS_URL)
    assert empty.status_code == 200
    page = empty.content.decode()
    assert '<label for="id_n">' in page and '<label for="id_c">' in page
    assert "We found no document" not in page

    bad = client.get(STATUS_URL, {"n": "douăzeci", "c": "ABCDEFGH"})
    assert bad.status_code == 400
    page = bad.content.decode()
    assert 'href="#id_n"' in page and 'aria-invalid="true"' in page
    assert "for example RG-12/2026" in page


@pytest.mark.django_db
def test_status_page_is_rate_limited_by_address(client, registry, monkeypatch):
    monkeypatch.setattr(documents, "STATUS_RATE", "3/m")
    entry = register(registry)
    english(client)
    with time_machine.travel(at(2026, 3, 12, 11, 0), tick=False):
        for _ in range(3):
            assert client.get(STATUS_URL, {"n": "RG-9/2026", "c": "ABCDEFGH"}).status_code == 404
        limited = client.get(STATUS_URL, {"n": "RG-1/2026", "c": entry.status_code})
        assert limited.status_code == 429
        assert "Too many attempts" in limited.content.decode()
        assert 'id="status-result"' not in limited.content.decode()
        # Another address is not affected; the plain form is not counted.
        assert client.get(STATUS_URL).status_code == 200
        other = client.get(
            STATUS_URL, {"n": "RG-1/2026", "c": entry.status_code}, REMOTE_ADDR="10.0.0.9"
        )
        assert other.status_code == 200


# --- the printed register ----------------------------------------------------------------------


@pytest.fixture
def book(registry, clerk):
    """Entries of March 2026 at the general registry, with an answer, a joined entry,
    an entry of another point and some outside the period."""
    before = register(registry, when=at(2026, 2, 28, 16), summary="Cerere din februarie")
    first = register(
        registry,
        when=at(2026, 3, 2, 9),
        sender_reference="1234",
        sender_date=dt.date(2026, 2, 27),
        pages=3,
        annexes=2,
        summary="Sesizare privind iluminatul public pe str. Zorilor",
        archive_item=None,
        channel=RegistryChannel.POST,
    )
    with time_machine.travel(at(2026, 3, 10, 12), tick=False):
        answer = registry_entry_answer(
            entry_id=first.pk, summary="Iluminatul a fost repus în funcțiune.", actor=clerk
        )
    anonymous = register(
        registry,
        when=at(2026, 3, 11, 8),
        sender_kind=SenderKind.ANONYMOUS,
        sender_name="",
        sender_address="",
        summary="Reclamație anonimă despre zgomot",
    )
    other_point = register(registry, point="dv", kind="cerere", when=at(2026, 3, 5))
    after = register(registry, when=at(2026, 4, 1, 0, 5), summary="Cerere din aprilie")
    return {
        "before": before,
        "first": first,
        "answer": answer,
        "anonymous": anonymous,
        "other_point": other_point,
        "after": after,
    }


def register_url(**params):
    params.setdefault("date_from", "2026-03-01")
    params.setdefault("date_to", "2026-03-31")
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return f"{reverse('registry:register_print')}?{query}"


@pytest.mark.django_db
def test_register_has_the_rows_of_the_point_and_period_in_order(client, registry, clerk, book):
    english(client, clerk)
    with time_machine.travel(at(2026, 4, 2), tick=False):
        response = client.get(register_url(point=registry["points"]["rg"].pk))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "registru-rg-2026-03-01-2026-03-31.pdf" in response["Content-Disposition"]
    reader = pypdf.PdfReader(io.BytesIO(response.content))
    page = reader.pages[0]
    assert page.mediabox.width > page.mediabox.height  # landscape
    text = flat(pdf_text(response.content))
    numbers = re.findall(r"RG-\d+/2026", text)
    first, answer, anonymous = book["first"], book["answer"], book["anonymous"]
    assert list(dict.fromkeys(numbers)) == [
        first.display_number,
        answer.display_number,
        anonymous.display_number,
    ]
    assert numbers.count(first.display_number) == 2  # its row, and the answer's link to it
    assert book["before"].display_number not in numbers
    assert book["after"].display_number not in numbers
    assert "DV-" not in text
    for header in ("Registration no.", "Sender's no. and date", "How it was resolved", "File code"):
        assert header in text
    assert "1234 / 27.02.2026" in text
    assert "Sesizare privind iluminatul public" in text
    assert "10.03.2026" in text  # the dispatch date of the answer
    assert "Iluminatul a fost repus" in text  # how it was resolved
    assert "Anonymous" in text
    assert "3 entries" in text
    assert "Page 1 of 1" in text


@pytest.mark.django_db
def test_register_repeats_its_header_and_numbers_pages(client, registry, clerk):
    for i in range(60):
        register(registry, when=at(2026, 3, 2, 8, i % 60), summary=f"Cerere {i} " + "text " * 30)
    english(client, clerk)
    response = client.get(register_url(point=registry["points"]["rg"].pk))
    reader = pypdf.PdfReader(io.BytesIO(response.content))
    assert len(reader.pages) >= 2
    for n, page in enumerate(reader.pages, start=1):
        text = flat(page.extract_text())
        assert "Registration no." in text and "File code" in text
        assert f"Page {n} of {len(reader.pages)}" in text
    numbers = re.findall(r"RG-(\d+)/2026", flat(pdf_text(response.content)))
    assert [int(n) for n in numbers] == list(range(1, 61))


@pytest.mark.django_db
def test_register_refuses_bad_periods_and_too_many_rows(client, registry, clerk, book, monkeypatch):
    english(client, clerk)
    rg = registry["points"]["rg"].pk
    form = client.get(reverse("registry:register_print"))
    assert form.status_code == 200 and '<label for="id_date_from">' in form.content.decode()
    # The search page's link without a point: the form, with the dates kept.
    partial = client.get(register_url(point=""))
    assert partial.status_code == 200
    assert 'value="2026-03-01"' in partial.content.decode()

    reversed_period = client.get(
        register_url(point=rg, date_from="2026-03-31", date_to="2026-03-01")
    )
    assert reversed_period.status_code == 400
    assert "before its start" in reversed_period.content.decode()

    too_long = client.get(register_url(point=rg, date_from="2025-01-01", date_to="2026-03-01"))
    assert too_long.status_code == 400
    assert "at most 366 days" in too_long.content.decode()

    not_a_date = client.get(register_url(point=rg, date_from="ieri"))
    assert not_a_date.status_code == 400

    monkeypatch.setattr(documents, "REGISTER_MAX_ROWS", 2)
    too_many = client.get(register_url(point=rg))
    assert too_many.status_code == 400
    assert "This period has 3 entries; print at most 2" in too_many.content.decode()


@pytest.mark.django_db
def test_register_is_for_the_clerks_of_the_point_and_managers(client, registry, clerk, personas):
    dv = registry["points"]["dv"].pk
    rg = registry["points"]["rg"].pk
    client.force_login(clerk)
    assert client.get(register_url(point=dv)).status_code == 400  # not one of their points
    assert client.get(register_url(point=rg)).status_code == 200
    for user in (personas["staff"], personas["citizen"], personas["operator"]):
        client.force_login(user)
        assert client.get(register_url(point=rg)).status_code == 403, user
    client.force_login(personas["manager"])
    assert client.get(register_url(point=dv)).status_code == 200
    client.logout()
    assert client.get(register_url(point=rg)).status_code == 302
