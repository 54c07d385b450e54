"""The semi-annual petitions report and the annual Law 544/2001 report, against fixtures
counted by hand: every figure, in the computed report, the CSV and the PDF."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from zoneinfo import ZoneInfo

import pypdf
import pytest
import time_machine
from django.urls import reverse

from cetatea.registry import reports
from cetatea.registry.choices import RegistryChannel as Ch
from cetatea.registry.choices import SenderKind
from cetatea.registry.services import (
    registry_entry_answer,
    registry_entry_extend,
    registry_entry_file,
    registry_entry_forward,
    registry_entry_refuse,
    registry_entry_register,
)

TZ = ZoneInfo("Europe/Bucharest")


def at(y, m, d, h=10, mi=0):
    return dt.datetime(y, m, d, h, mi, tzinfo=TZ)


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    """The personas' passwords are hashed with a fast hasher: PBKDF2 costs a second per
    user on this machine, and these tests only use force_login."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


class Desk:
    """A clerk and a manager working the registry on chosen days."""

    def __init__(self, registry, personas):
        self.registry = registry
        self.clerk = personas["clerk"]
        self.manager = personas["manager"]

    def register(self, when, kind="petitie", point="rg", **kwargs):
        kwargs.setdefault("summary", "Cerere privind strada Trandafirilor")
        kwargs.setdefault("sender_name", "Popescu Ion")
        if kwargs.get("sender_kind") != SenderKind.ANONYMOUS:
            kwargs.setdefault("sender_address", "Str. Trandafirilor 3, Alba Iulia")
        with time_machine.travel(when, tick=False):
            return registry_entry_register(
                point=self.registry["points"][point],
                doc_type=self.registry["types"][kind],
                actor=self.clerk,
                **kwargs,
            )

    def answer(self, entry, when):
        with time_machine.travel(when, tick=False):
            registry_entry_answer(entry_id=entry.pk, summary="Răspuns", actor=self.clerk)

    def extend(self, entry, when, days):
        with time_machine.travel(when, tick=False):
            registry_entry_extend(
                entry_id=entry.pk, days=days, reason="Verificări pe teren", actor=self.manager
            )

    def forward(self, entry, when):
        with time_machine.travel(when, tick=False):
            registry_entry_forward(
                entry_id=entry.pk, to="Consiliul Județean Alba", reason="", actor=self.clerk
            )

    def refuse(self, entry, when, reason):
        with time_machine.travel(when, tick=False):
            registry_entry_refuse(entry_id=entry.pk, reason=reason, actor=self.clerk)

    def file(self, entry, when):
        with time_machine.travel(when, tick=False):
            registry_entry_file(entry_id=entry.pk, reason="Retrasă de petent", actor=self.clerk)


@pytest.fixture
def petitions(registry, personas):
    """Thirteen petitions in the first half of 2026, two outside it, other documents.

    | # | registered | sender | channel | what happened | in the report |
    |---|---|---|---|---|---|
    | P1 | 12 Jan | person | counter | answered 2 Feb (term 11 Feb) | on time |
    | P2 | 20 Jan | company, Roads | e-mail | answered 10 Mar (term 19 Feb) | late |
    | P3 | 2 Feb | institution | post | +15 days, answered 16 Mar (term 19 Mar) | on time |
    | P4 | 2 Mar | person | web | forwarded 4 Mar (limit 9 Mar) | forwarded in 5 days |
    | P5 | 3 Mar | person | counter | forwarded 20 Mar | forwarded late |
    | P6 | 5 Mar | anonymous | counter | filed at registration | art. 7 |
    | P7 | 6 Mar | person, name only | post | filed at registration | art. 7 |
    | P8 | 1 Apr | person, same as P1 | counter | filed: P1 was answered | art. 10(2) |
    | P10 | 1 Apr | person | counter | open, term 4 May (1 May holiday, weekend) | open past term |
    | P9 | 2 Apr | person | e-mail | joined to P10 | art. 10(1) |
    | P12 | 10 May | person | counter | filed by the clerk 12 May | filed, other |
    | P11 | 20 Jun | person | web | open, term 20 Jul | in progress |
    | P13 | 30 Jun 23:30 | person, DV point (Roads) | counter | open, term 30 Jul | in progress |

    Not counted: 31 Dec 2025 23:50 and 1 Jul 2026 00:10 (other halves), a public-
    information request, a service request, and the outgoing answers and notices.
    The report is made on 15 July 2026.
    """
    desk = Desk(registry, personas)
    registry["points"]["rg"].clerks.add(desk.clerk)
    p = {}
    desk.register(at(2025, 12, 31, 23, 50))
    p[1] = desk.register(at(2026, 1, 12), channel=Ch.COUNTER)
    desk.answer(p[1], at(2026, 2, 2))
    p[2] = desk.register(
        at(2026, 1, 20),
        channel=Ch.EMAIL,
        sender_kind=SenderKind.COMPANY,
        sender_name="SC Alfa SRL",
        sender_address="",
        sender_email="office@alfa.ro",
        department=registry["roads"],
    )
    desk.answer(p[2], at(2026, 3, 10))
    p[3] = desk.register(
        at(2026, 2, 2),
        channel=Ch.POST,
        sender_kind=SenderKind.INSTITUTION,
        sender_name="Prefectura",
    )
    desk.extend(p[3], at(2026, 2, 20), 15)
    desk.answer(p[3], at(2026, 3, 16))
    p[4] = desk.register(at(2026, 3, 2), channel=Ch.WEB)
    desk.forward(p[4], at(2026, 3, 4))
    p[5] = desk.register(at(2026, 3, 3), channel=Ch.COUNTER)
    desk.forward(p[5], at(2026, 3, 20))
    p[6] = desk.register(
        at(2026, 3, 5), channel=Ch.COUNTER, sender_kind=SenderKind.ANONYMOUS, sender_name=""
    )
    p[7] = desk.register(
        at(2026, 3, 6), channel=Ch.POST, sender_name="Ionescu Maria", sender_address=""
    )
    p[8] = desk.register(at(2026, 4, 1, 9), channel=Ch.COUNTER, joined_to=p[1])
    p[10] = desk.register(at(2026, 4, 1, 11), channel=Ch.COUNTER, sender_name="Vasile Ana")
    p[9] = desk.register(at(2026, 4, 2), channel=Ch.EMAIL, joined_to=p[10])
    p[12] = desk.register(at(2026, 5, 10), channel=Ch.COUNTER)
    desk.file(p[12], at(2026, 5, 12))
    p[11] = desk.register(at(2026, 6, 20), channel=Ch.WEB)
    p[13] = desk.register(at(2026, 6, 30, 23, 30), point="dv", channel=Ch.COUNTER)
    desk.register(at(2026, 7, 1, 0, 10))
    desk.register(at(2026, 3, 9), kind="info-544", sender_email="a@b.ro")
    desk.register(at(2026, 3, 9), kind="cerere")
    return p


PETITIONS_H1 = [
    ("Petitions registered", "Petitions registered in the period", 13),
    ("By sender", "Natural person", 10),
    ("By sender", "Company or organisation", 1),
    ("By sender", "Public institution", 1),
    ("By sender", "Anonymous", 1),
    ("By channel", "Counter", 7),
    ("By channel", "Post", 2),
    ("By channel", "E-mail", 2),
    ("By channel", "Web portal", 2),
    ("By channel", "Fax", 0),
    ("By channel", "Courier", 0),
    ("By channel", "Internal", 0),
    ("By department solving them", "Public relations", 11),
    ("By department solving them", "Roads", 2),
    ("Answers and terms", "Answered within the term", 2),
    ("Answers and terms", "Answered after the term", 1),
    ("Answers and terms", "Still open, past the term (late)", 1),
    ("Answers and terms", "Still open, within the term (in progress)", 2),
    ("Answers and terms", "Late in all (answered late or still open past the term)", 2),
    ("Extensions and forwarding", "Terms extended (art. 9)", 1),
    ("Extensions and forwarding", "Forwarded to the competent authority (art. 6¹)", 2),
    ("Extensions and forwarding", "of which within 5 days", 1),
    ("Filed and joined", "Filed: anonymous or without identification (art. 7)", 2),
    ("Filed and joined", "Filed: the same petition after the answer (art. 10(2))", 1),
    ("Filed and joined", "Filed for other reasons", 1),
    ("Filed and joined", "Joined to an earlier petition (art. 10(1))", 1),
]


@pytest.fixture
def info_requests(registry, personas):
    """Nine Law 544/2001 requests and three administrative complaints in 2026.

    | # | registered | requester | channel | what happened | in the report |
    |---|---|---|---|---|---|
    | I1 | 2 Feb | person | e-mail | answered 9 Feb (term 12 Feb) | within 10 days |
    | I2 | 3 Feb | company | web | +20 days 10 Feb, answered 2 Mar (term 5 Mar) | in 30 days |
    | I3 | 2 Mar | person | counter | answered 20 Mar (term 12 Mar) | late |
    | I4 | 1 Apr | person | post | refused 3 Apr, "exceptată" (limit 6 Apr) | in 5 days |
    | I5 | 6 Apr | person | e-mail | refused 20 Apr, "exceptată" (limit 14 Apr) | late |
    | I6 | 4 May | person | e-mail | refused 5 May, "nu există" | in 5 days |
    | I7 | 2 Jun | institution | post | forwarded 3 Jun | forwarded |
    | I8 | 10 Dec | person | web | open, term 21 Dec | open past term |
    | I9 | 30 Dec | person | e-mail | open, term 11 Jan 2027 | open in term |
    | C1 | 10 May | complaint | counter | answered 20 May (term 25 May) | on time |
    | C2 | 10 Jun | complaint | counter | answered 1 Jul (term 25 Jun) | late |
    | C3 | 28 Dec | complaint | counter | open | open |

    Not counted: a request of 31 Dec 2025, one of 2 Jan 2027, a petition of 2026.
    The report is made on 5 January 2027.
    """
    desk = Desk(registry, personas)
    email = {"sender_email": "cerere@example.ro"}
    desk.register(at(2025, 12, 31, 12), kind="info-544", **email)
    i = {}
    i[1] = desk.register(at(2026, 2, 2), kind="info-544", channel=Ch.EMAIL, **email)
    desk.answer(i[1], at(2026, 2, 9))
    i[2] = desk.register(
        at(2026, 2, 3),
        kind="info-544",
        channel=Ch.WEB,
        sender_kind=SenderKind.COMPANY,
        sender_name="SC Beta SA",
        **email,
    )
    desk.extend(i[2], at(2026, 2, 10), 20)
    desk.answer(i[2], at(2026, 3, 2))
    i[3] = desk.register(at(2026, 3, 2), kind="info-544", channel=Ch.COUNTER)
    desk.answer(i[3], at(2026, 3, 20))
    i[4] = desk.register(at(2026, 4, 1), kind="info-544", channel=Ch.POST)
    desk.refuse(i[4], at(2026, 4, 3), "Informație exceptată (art. 12)")
    i[5] = desk.register(at(2026, 4, 6), kind="info-544", channel=Ch.EMAIL, **email)
    desk.refuse(i[5], at(2026, 4, 20), "Informație exceptată (art. 12)")
    i[6] = desk.register(at(2026, 5, 4), kind="info-544", channel=Ch.EMAIL, **email)
    desk.refuse(i[6], at(2026, 5, 5), "Informația nu există")
    i[7] = desk.register(
        at(2026, 6, 2),
        kind="info-544",
        channel=Ch.POST,
        sender_kind=SenderKind.INSTITUTION,
        sender_name="Primăria Sebeș",
    )
    desk.forward(i[7], at(2026, 6, 3))
    i[8] = desk.register(at(2026, 12, 10), kind="info-544", channel=Ch.WEB, **email)
    i[9] = desk.register(at(2026, 12, 30), kind="info-544", channel=Ch.EMAIL, **email)
    c1 = desk.register(at(2026, 5, 10), kind="reclamatie-544")
    desk.answer(c1, at(2026, 5, 20))
    c2 = desk.register(at(2026, 6, 10), kind="reclamatie-544")
    desk.answer(c2, at(2026, 7, 1))
    desk.register(at(2026, 12, 28), kind="reclamatie-544")
    desk.register(at(2027, 1, 2), kind="info-544", **email)
    desk.register(at(2026, 5, 5), kind="petitie")
    return i


INFO_2026 = [
    ("Requests received", "Requests for public information received", 9),
    ("Requests received", "on paper (counter, post, fax, courier)", 3),
    ("Requests received", "electronically (e-mail, web portal)", 6),
    ("By channel", "Counter", 1),
    ("By channel", "Post", 2),
    ("By channel", "E-mail", 4),
    ("By channel", "Web portal", 2),
    ("By channel", "Fax", 0),
    ("By channel", "Courier", 0),
    ("By channel", "Internal", 0),
    ("By requester", "Natural person", 7),
    ("By requester", "Company or organisation", 1),
    ("By requester", "Public institution", 1),
    ("By requester", "Anonymous", 0),
    ("Answers", "Answered within 10 days", 1),
    ("Answers", "Answered within 30 days (term extended with notice)", 1),
    ("Answers", "Answered after the term", 1),
    ("Answers", "Refused (reasoned)", 3),
    ("Answers", "of which communicated within 5 days", 2),
    ("Answers", "Forwarded to the competent authority", 1),
    ("Answers", "Filed or joined to another request", 0),
    ("Answers", "Still open, within the term", 1),
    ("Answers", "Still open, past the term", 1),
    ("Answers", "Terms extended (notified within 10 days)", 1),
    ("Reasons for refusal", "Informație exceptată (art. 12)", 2),
    ("Reasons for refusal", "Informația nu există", 1),
    ("Administrative complaints (art. 21)", "Complaints received", 3),
    ("Administrative complaints (art. 21)", "Answered within the term", 1),
    ("Administrative complaints (art. 21)", "Answered after the term", 1),
    ("Administrative complaints (art. 21)", "Still open", 1),
    ("Administrative complaints (art. 21)", "Closed otherwise (filed, forwarded)", 0),
]


def csv_figures(response) -> list[tuple[str, str, int]]:
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == ["Section", "Figure", "Value"]
    return [(s, label, int(v)) for s, label, v in rows[1:] if v != ""]


def assert_in_pdf(content: bytes, figures) -> str:
    """Every figure appears in the PDF, with its value, in the report's order."""
    reader = pypdf.PdfReader(io.BytesIO(content))
    text = " ".join(" ".join(page.extract_text() for page in reader.pages).split())
    cursor = 0
    section = None
    for title, label, value in figures:
        if title != section:
            cursor = text.index(title, cursor) + len(title)
            section = title
        found = re.compile(re.escape(label) + rf" {value}\b").search(text, cursor)
        assert found, (title, label, value)
        cursor = found.end()
    return text


def get(client, user, name, fmt, **params):
    client.force_login(user)
    client.cookies["django_language"] = "en"
    return client.get(reverse(f"registry:{name}", args=[fmt]), params)


@pytest.mark.django_db
def test_petitions_report_figures_match_the_hand_count(client, petitions, personas):
    with time_machine.travel(at(2026, 7, 15), tick=False):
        report = reports.petitions_report(year=2026, half=1)
        assert list(report.figures()) == PETITIONS_H1

        as_csv = get(client, personas["manager"], "petitions_report", "csv", year=2026, half=1)
        as_pdf = get(client, personas["manager"], "petitions_report", "pdf", year=2026, half=1)

    assert as_csv.status_code == 200
    assert 'attachment; filename="petitii-2026-s1.csv"' == as_csv["Content-Disposition"]
    assert csv_figures(as_csv) == PETITIONS_H1
    head = as_csv.content.decode("utf-8-sig")
    assert "01.01.2026 – 30.06.2026" in head and "15.07.2026" in head
    assert as_pdf.status_code == 200 and as_pdf["Content-Type"] == "application/pdf"
    text = assert_in_pdf(as_pdf.content, PETITIONS_H1)
    assert "Primăria Municipiului Alba Iulia" in text
    assert "first half of 2026" in text and "Situation on 15.07.2026" in text


@pytest.mark.django_db
def test_petitions_report_of_one_point_and_of_the_second_half(client, registry, petitions):
    with time_machine.travel(at(2026, 7, 15), tick=False):
        dv = reports.petitions_report(year=2026, half=1, point=registry["points"]["dv"])
        second = reports.petitions_report(year=2026, half=2)
    assert dv.value("Petitions registered", "Petitions registered in the period") == 1
    assert dv.value("Answers and terms", "Still open, within the term (in progress)") == 1
    assert dv.value("By department solving them", "Roads") == 1
    assert dv.scope == registry["points"]["dv"].name
    assert second.value("Petitions registered", "Petitions registered in the period") == 1
    assert second.value("Answers and terms", "Still open, within the term (in progress)") == 1


@pytest.mark.django_db
def test_open_petitions_become_late_when_their_term_passes(petitions):
    with time_machine.travel(at(2026, 8, 10), tick=False):
        report = reports.petitions_report(year=2026, half=1)
    # P11 (term 20 July) and P13 (term 30 July) are now past their term.
    assert report.value("Answers and terms", "Still open, past the term (late)") == 3
    assert report.value("Answers and terms", "Still open, within the term (in progress)") == 0


@pytest.mark.django_db
def test_info_544_report_figures_match_the_hand_count(client, info_requests, personas):
    with time_machine.travel(at(2027, 1, 5), tick=False):
        report = reports.info_544_report(year=2026)
        assert list(report.figures()) == INFO_2026

        as_csv = get(client, personas["manager"], "info_544_report", "csv", year=2026)
        as_pdf = get(client, personas["manager"], "info_544_report", "pdf", year=2026)

    assert 'filename="legea-544-2026.csv"' in as_csv["Content-Disposition"]
    assert csv_figures(as_csv) == INFO_2026
    text = assert_in_pdf(as_pdf.content, INFO_2026)
    assert "Law 544/2001" in text and "Situation on 05.01.2027" in text


@pytest.mark.django_db
def test_reports_only_for_those_allowed(client, registry, personas):
    urls = [
        reverse("registry:reports"),
        reverse("registry:petitions_report", args=["pdf"]) + "?year=2026&half=1",
        reverse("registry:info_544_report", args=["csv"]) + "?year=2026",
    ]
    for url in urls:
        assert client.get(url).status_code == 302
        for role in ("clerk", "staff", "operator", "citizen"):
            client.force_login(personas[role])
            assert client.get(url).status_code == 403, (url, role)
        for role in ("manager", "admin"):
            client.force_login(personas[role])
            assert client.get(url).status_code == 200, (url, role)
        client.logout()


@pytest.mark.django_db
def test_reports_page_and_bad_parameters(client, registry, personas):
    client.force_login(personas["manager"])
    client.cookies["django_language"] = "en"
    with time_machine.travel(at(2026, 9, 1), tick=False):
        page = client.get(reverse("registry:reports")).content.decode()
    # Two forms on one page: distinct ids, plain parameter names.
    assert 'id="p_year"' in page and 'id="i_year"' in page and 'name="year"' in page
    assert 'value="2026"' in page  # the last complete half: January–June 2026
    assert 'formaction="/staff/registry/reports/petitions.csv"' in page

    bad_half = client.get(reverse("registry:petitions_report", args=["pdf"]), {"year": 2026})
    assert bad_half.status_code == 400
    assert 'href="#p_half_0"' in bad_half.content.decode()
    bad_year = client.get(reverse("registry:info_544_report", args=["csv"]), {"year": "1066"})
    assert bad_year.status_code == 400 and 'href="#i_year"' in bad_year.content.decode()
    unknown_format = client.get(reverse("registry:info_544_report", args=["xls"]), {"year": 2026})
    assert unknown_format.status_code == 404


@pytest.mark.django_db
def test_reports_read_a_few_grouped_queries_whatever_the_volume(
    petitions, django_assert_max_num_queries
):
    with time_machine.travel(at(2026, 7, 15), tick=False):
        with django_assert_max_num_queries(12):
            reports.petitions_report(year=2026, half=1)
        with django_assert_max_num_queries(14):
            reports.info_544_report(year=2026)


@pytest.mark.django_db
def test_a_year_without_requests_gives_zeros_and_says_nothing_was_refused(registry):
    with time_machine.travel(at(2026, 7, 15), tick=False):
        report = reports.info_544_report(year=2025)
        petitions = reports.petitions_report(year=2025, half=2)
    assert report.value("Requests received", "Requests for public information received") == 0
    assert report.value("Reasons for refusal", "No request was refused") == 0
    assert petitions.value("Petitions registered", "Petitions registered in the period") == 0
    assert [r.label for r in petitions.sections[3].rows] == []  # no department line
