"""Registry documents: the citizen's receipt (PDF with a QR code), the public status page,
the printed register and the legal reports (PDF and CSV).

Thin views: a form checks the parameters, ``reports.py`` computes figures, ``pdf.py`` lays
pages out. Who may see what: the receipt follows ``selectors.access_entry`` (clerks their
points, a department its entries, managers everything); the register is printed by the
clerks of the point and by those who read every point; the reports need
``registry.view_registry_reports``. The public page shows only the number, the date, the
status and the term, after the number and the code printed on the receipt match.
"""

from __future__ import annotations

import csv
import datetime as dt
import hmac
import io
import re
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods
from django_ratelimit.core import is_ratelimited

from cetatea.core.security import harden_file_response
from cetatea.core.workdays import local_date
from cetatea.registry import pdf, selectors
from cetatea.registry import reports as figures
from cetatea.registry.choices import DocRegime, EntryStatus, SenderKind
from cetatea.registry.models import Entry, RegistryPoint
from cetatea.registry.services import parse_number

# Lookups on the public status page per address: enough for a family, far too few to
# guess a code (31^8 of them).
STATUS_RATE = "30/h"
# The printed register: one point, at most a year and this many rows per PDF.
REGISTER_MAX_DAYS = 366
REGISTER_MAX_ROWS = 20_000
REGISTER_CHUNK = 1000
SUMMARY_ON_RECEIPT = 300


def _ro_en(message, **params) -> pdf.Bi:
    """``message`` in Romanian and in English (formatted with ``params``)."""
    out = []
    for language in ("ro", "en"):
        with translation.override(language):
            text = str(message)
            out.append(text % params if params else text)
    return out[0], out[1]


def _day(value: dt.date | dt.datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = local_date(value)
    return value.strftime("%d.%m.%Y")


def _moment(value: dt.datetime) -> str:
    return timezone.localtime(value).strftime("%d.%m.%Y %H:%M")


def public_status_url(entry: Entry) -> str:
    """The public status page for ``entry``, with its number and code: what the QR code
    on the receipt encodes. The host is ``CETATEA_SITE_URL`` (the public address), not
    the one the clerk's browser used (an intranet name)."""
    query = urlencode({"n": entry.display_number, "c": entry.status_code})
    base = settings.CETATEA_SITE_URL.rstrip("/")
    return f"{base}{reverse('registry_public:public_status')}?{query}"


def _inline(content: bytes, filename: str, content_type: str = "application/pdf"):
    response = HttpResponse(content, content_type=content_type)
    return harden_file_response(response, filename=filename, inline=True)


# --- The receipt ---------------------------------------------------------------------------

LEGAL_BASIS = {
    DocRegime.PETITION: gettext_lazy("OG 27/2002 art. 8"),
    DocRegime.INFO_544: gettext_lazy("Law 544/2001 art. 7"),
}
EXTENSION_BASIS = {
    DocRegime.PETITION: gettext_lazy("extended by %(d)d days, OG 27/2002 art. 9"),
    DocRegime.INFO_544: gettext_lazy("extended by %(d)d days, Law 544/2001 art. 7(1)"),
}
RECEIPT_NOTES = {
    DocRegime.PETITION: gettext_lazy(
        "A petition is answered within 30 days of its registration (OG 27/2002 art. 8); "
        "the term may be extended once by up to 15 days, with notice (art. 9)."
    ),
    DocRegime.INFO_544: gettext_lazy(
        "A request for public information is answered within 10 days, or within 30 days "
        "with notice given within the 10 days; a refusal is reasoned and communicated "
        "within 5 days (Law 544/2001 art. 7)."
    ),
}


def _term_text(entry: Entry) -> pdf.Bi:
    if entry.due_date is None:
        return _ro_en(gettext_lazy("No answer is due"))
    regime = entry.doc_type.regime
    basis = LEGAL_BASIS.get(regime, gettext_lazy("the term set for this type of document"))
    ro, en = _ro_en(basis)
    if entry.extended_days:
        more = EXTENSION_BASIS.get(regime, gettext_lazy("extended by %(d)d days"))
        ro_x, en_x = _ro_en(more, d=entry.extended_days)
        ro, en = f"{ro}; {ro_x}", f"{en}; {en_x}"
    day = _day(entry.due_date)
    return f"{day} ({ro})", f"{day} ({en})"


def _both_lines(pair: pdf.Bi) -> str:
    ro, en = pair
    return ro if ro == en else f"{ro}\n{en}"


def receipt_content(entry: Entry) -> pdf.ReceiptContent:
    """What the citizen's receipt says about ``entry`` (no national id, no address)."""
    summary = " ".join(entry.summary.split())
    if len(summary) > SUMMARY_ON_RECEIPT:
        summary = summary[: SUMMARY_ON_RECEIPT - 1].rstrip() + "…"
    kind = entry.doc_type
    kind_name = kind.name_ro if not kind.name_en else f"{kind.name_ro}\n{kind.name_en}"
    department = entry.department
    fields: list[tuple[pdf.Bi, str]] = [
        (_ro_en(gettext_lazy("Registration number")), entry.display_number),
        (_ro_en(gettext_lazy("Registered on")), _moment(entry.registered_at)),
        (_ro_en(gettext_lazy("Document type")), kind_name),
        (_ro_en(gettext_lazy("Summary")), summary),
        (
            _ro_en(gettext_lazy("Assigned to")),
            department.name_ro if department else "—",
        ),
        (_ro_en(gettext_lazy("Answer due by")), _both_lines(_term_text(entry))),
    ]
    if entry.status != EntryStatus.OPEN:
        fields.append((_ro_en(gettext_lazy("Status")), _both_lines(_status_words(entry))))
    fields.append((_ro_en(gettext_lazy("Status code")), entry.status_code))
    strong = (0, len(fields) - 1)
    notes = []
    if settings.CETATEA_STATUS_PHONE:
        notes.append(
            _ro_en(
                gettext_lazy("You can also ask about it on the phone: %(phone)s"),
                phone=settings.CETATEA_STATUS_PHONE,
            )
        )
    if kind.regime in RECEIPT_NOTES and entry.status == EntryStatus.OPEN:
        notes.append(_ro_en(RECEIPT_NOTES[kind.regime]))
    page = settings.CETATEA_SITE_URL.rstrip("/") + reverse("registry_public:public_status")
    return pdf.ReceiptContent(
        institution=settings.CETATEA_INSTITUTION_NAME,
        point=entry.book.point.name_ro,
        title=_ro_en(gettext_lazy("Registration receipt")),
        fields=fields,
        strong=strong,
        check_intro=_ro_en(
            gettext_lazy(
                "Check the status online: scan the code, or open the address below and "
                "type the number and the status code %(code)s."
            ),
            code=entry.status_code,
        ),
        status_url=page,
        qr_data=public_status_url(entry),
        notes=notes,
        pdf_title=_("Receipt %(n)s") % {"n": entry.display_number},
    )


def receipt_filename(entry: Entry) -> str:
    slug = re.sub(r"[^A-Za-z0-9]+", "-", entry.display_number).strip("-")
    return f"chitanta-{slug}.pdf"


@require_GET
@login_required
def receipt(request, entry_id: int):
    entry = selectors.access_entry(request.user, entry_id)
    return _inline(pdf.receipt_pdf(receipt_content(entry)), receipt_filename(entry))


# --- The public status page ------------------------------------------------------------------


# The status in plain words, without anything about the content or the people.
STATUS_WORDS = {
    EntryStatus.OPEN: gettext_lazy("Being solved"),
    EntryStatus.ANSWERED: gettext_lazy("Answered"),
    EntryStatus.FORWARDED: gettext_lazy("Sent to the competent authority, which will answer you"),
    EntryStatus.FILED: gettext_lazy("Filed without action"),
    EntryStatus.JOINED: gettext_lazy(
        "Joined to an earlier document on the same matter: one answer covers both"
    ),
    EntryStatus.REFUSED: gettext_lazy("Answered with a reasoned refusal"),
    EntryStatus.DONE: gettext_lazy("Registered (no answer is due)"),
}


def _status_words(entry: Entry) -> pdf.Bi:
    return _ro_en(STATUS_WORDS.get(entry.status, gettext_lazy("Registered")))


class StatusForm(forms.Form):
    n = forms.CharField(
        label=gettext_lazy("Registration number"),
        max_length=40,
        help_text=gettext_lazy("As on the receipt, e.g. RG-12/2026"),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    c = forms.CharField(
        label=gettext_lazy("Status code"),
        max_length=20,
        help_text=gettext_lazy("The 8 letters and digits printed on the receipt"),
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "characters"}
        ),
    )

    def clean_n(self):
        value = self.cleaned_data["n"]
        if parse_number(value) is None:
            raise forms.ValidationError(
                _("Write the number as it is on the receipt, for example RG-12/2026.")
            )
        return value

    def clean_c(self):
        return re.sub(r"[\s-]+", "", self.cleaned_data["c"]).upper()


def _find(number: str, code: str) -> Entry | None:
    """The entry with this number and code, or None, in the same time whether the number
    exists or not (the code is compared in constant time either way)."""
    parsed = parse_number(number)
    entry = None
    if parsed is not None:
        point, n, year = parsed
        entry = (
            Entry.objects.select_related("book__point")
            .filter(book__point__code=point, book__year=year, number=n)
            .only(
                "number",
                "registered_at",
                "status",
                "due_date",
                "dispatched_at",
                "closed_at",
                "status_code",
                "book__year",
                "book__point__code",
            )
            .first()
        )
    expected = entry.status_code.upper() if entry is not None else "-" * 8
    matches = hmac.compare_digest(expected.encode(), code.upper().encode())
    return entry if entry is not None and matches else None


def _public_facts(entry: Entry) -> dict:
    """The only things the public page shows."""
    facts = {
        "number": entry.display_number,
        "registered_on": local_date(entry.registered_at),
        "status": str(STATUS_WORDS.get(entry.status, gettext_lazy("Registered"))),
        "due_date": None,
        "closed_on": None,
    }
    if entry.status == EntryStatus.OPEN:
        facts["due_date"] = entry.due_date
    elif entry.status == EntryStatus.JOINED and entry.dispatched_at is None:
        facts["due_date"] = entry.due_date
    elif entry.status != EntryStatus.DONE:
        moment = entry.dispatched_at or entry.closed_at
        facts["closed_on"] = local_date(moment) if moment else None
    return facts


@never_cache
@require_http_methods(["GET", "POST"])
def public_status(request):
    """A form with the number and the code; ``?n=…&c=…`` (the QR code) looks up at once."""
    data = request.POST if request.method == "POST" else request.GET
    asked = "n" in data or "c" in data
    form = StatusForm(data if asked else None)
    context: dict = {"form": form, "facts": None, "not_found": False}
    status = 200
    if asked:
        limited = is_ratelimited(
            request, group="registry.public_status", key="ip", rate=STATUS_RATE, increment=True
        )
        if limited:
            form.is_valid()
            form.add_error(None, _("Too many attempts from your connection; try again later."))
            status = 429
        elif form.is_valid():
            entry = _find(form.cleaned_data["n"], form.cleaned_data["c"])
            if entry is None:
                # The same words for an unknown number and a wrong code: the page does not
                # tell which numbers exist.
                context["not_found"] = True
                status = 404
            else:
                context["facts"] = _public_facts(entry)
        else:
            status = 400
    response = render(request, "registry/public_status.html", context, status=status)
    response["X-Robots-Tag"] = "noindex"
    return response


# --- The printed register --------------------------------------------------------------------


def _printable_points(user):
    scope = selectors.registry_scope(user)
    points = RegistryPoint.objects.order_by("-is_general", "name_ro")
    if scope.everything:
        return points
    return points.filter(pk__in=scope.point_ids)


class RegisterForm(forms.Form):
    point = forms.ModelChoiceField(
        label=gettext_lazy("Registry point"),
        queryset=RegistryPoint.objects.none(),
        empty_label=None,
    )
    date_from = forms.DateField(
        label=gettext_lazy("From"), widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=gettext_lazy("To"), widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, points, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["point"].queryset = points

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end:
            if start > end:
                self.add_error("date_to", _("The end of the period is before its start."))
            elif (end - start).days + 1 > REGISTER_MAX_DAYS:
                self.add_error(
                    "date_to",
                    _("Print at most %(n)d days at a time.") % {"n": REGISTER_MAX_DAYS},
                )
        return data


REGISTER_COLUMNS = [
    (gettext_lazy("Registration no."), 7),
    (gettext_lazy("Date"), 6),
    (gettext_lazy("Sender's no. and date"), 7),
    (gettext_lazy("Pages"), 3.8),
    (gettext_lazy("Annexes"), 4.6),
    (gettext_lazy("Sender"), 10),
    (gettext_lazy("Summary"), 18),
    (gettext_lazy("Assigned department"), 9),
    (gettext_lazy("Dispatch date"), 6),
    (gettext_lazy("How it was resolved"), 12),
    (gettext_lazy("Addressee"), 9),
    (gettext_lazy("Linked no."), 7),
    (gettext_lazy("File code"), 5),
]


REGISTER_FIELDS = (
    "number",
    "book__year",
    "book__point__code",
    "registered_at",
    "sender_reference",
    "sender_date",
    "pages",
    "annexes",
    "sender_kind",
    "sender_name",
    "summary",
    "department__name_ro",
    "department__name_en",
    "dispatched_at",
    "resolution",
    "addressee",
    "answers__number",
    "answers__book__year",
    "answers__book__point__code",
    "joined_to__number",
    "joined_to__book__year",
    "joined_to__book__point__code",
    "archive_item__code",
)


def register_rows(point: RegistryPoint, start: dt.date, end: dt.date):
    """The point's entries registered from ``start`` to ``end`` (local days), in
    register order, as plain values (a long register builds no model instances)."""
    since, until = figures.period_bounds(start, end)
    return (
        Entry.objects.filter(book__point=point, registered_at__gte=since, registered_at__lt=until)
        .order_by("book__year", "number")
        .values(*REGISTER_FIELDS)
    )


def _number(code: str | None, number: int | None, year: int | None) -> str:
    return f"{code.upper()}-{number}/{year}" if code and number else ""


def _register_line(row: dict) -> list[str]:
    """The 13 columns of art. 9 of the 1996 archive instructions (research §3.2)."""
    sender_ref = " / ".join(v for v in (row["sender_reference"], _day(row["sender_date"])) if v)
    if row["sender_kind"] == SenderKind.ANONYMOUS:
        sender = _("Anonymous")
    else:
        sender = row["sender_name"]
    english = (translation.get_language() or "ro").startswith("en")
    department = (english and row["department__name_en"]) or row["department__name_ro"] or ""
    linked = _number(
        row["answers__book__point__code"], row["answers__number"], row["answers__book__year"]
    ) or _number(
        row["joined_to__book__point__code"],
        row["joined_to__number"],
        row["joined_to__book__year"],
    )
    return [
        _number(row["book__point__code"], row["number"], row["book__year"]),
        _moment(row["registered_at"]),
        sender_ref,
        str(row["pages"]),
        str(row["annexes"]),
        sender,
        row["summary"],
        department,
        _day(row["dispatched_at"]),
        row["resolution"],
        row["addressee"],
        linked,
        row["archive_item__code"] or "",
    ]


@require_GET
@login_required
def register_print(request):
    """The register of one point for a period, as the 1996 archive instructions list its
    columns (research §3.2). Without parameters: the form that asks for them."""
    points = _printable_points(request.user)
    if not points.exists():
        raise PermissionDenied
    asked = {k: request.GET.get(k, "").strip() for k in ("point", "date_from", "date_to")}
    if not all(asked.values()):
        # A link from the search page may leave the point or the dates empty: ask for
        # them, keeping what was given, instead of answering with errors.
        initial = _default_period() | {k: v for k, v in asked.items() if v}
        form = RegisterForm(points=points, initial=initial)
        return render(request, "registry/doc_register.html", {"form": form})
    form = RegisterForm(request.GET, points=points)
    if not form.is_valid():
        return render(request, "registry/doc_register.html", {"form": form}, status=400)
    point, start, end = (form.cleaned_data[k] for k in ("point", "date_from", "date_to"))
    rows = register_rows(point, start, end)
    count = rows.count()
    if count > REGISTER_MAX_ROWS:
        form.add_error(
            None,
            _(
                "This period has %(count)d entries; print at most %(max)d at a time "
                "(choose a shorter period)."
            )
            % {"count": count, "max": REGISTER_MAX_ROWS},
        )
        return render(request, "registry/doc_register.html", {"form": form}, status=400)
    layout = pdf.RegisterLayout(
        institution=settings.CETATEA_INSTITUTION_NAME,
        title=_("Register of incoming and outgoing documents — %(point)s") % {"point": point},
        subtitle=_("From %(start)s to %(end)s · %(count)d entries · printed on %(now)s")
        % {"start": _day(start), "end": _day(end), "count": count, "now": _moment(timezone.now())},
        columns=[str(label) for label, _w in REGISTER_COLUMNS],
        widths=[w for _label, w in REGISTER_COLUMNS],
        page_label=_("Page %(n)d of"),
        empty_text=_("No document was registered in this period."),
    )
    lines = (_register_line(e) for e in rows.iterator(chunk_size=REGISTER_CHUNK))
    content = pdf.register_pdf(layout, lines)
    filename = f"registru-{point.code}-{start.isoformat()}-{end.isoformat()}.pdf"
    return _inline(content, filename)


def _default_period() -> dict:
    today = local_date(timezone.now())
    return {"date_from": today.replace(day=1), "date_to": today}


# --- Reports ------------------------------------------------------------------------------------


def access_reports(user) -> None:
    """PermissionDenied unless ``user`` may see the registry's reports."""
    if not user.is_authenticated:
        raise PermissionDenied
    if not user.is_active:
        raise PermissionDenied
    if not user.has_perm("registry.view_registry_reports"):
        raise PermissionDenied


def _year_field():
    return forms.IntegerField(label=gettext_lazy("Year"), min_value=2000, max_value=2100)


class PetitionsReportForm(forms.Form):
    year = _year_field()
    half = forms.TypedChoiceField(
        label=gettext_lazy("Half-year"),
        coerce=int,
        choices=[
            (1, gettext_lazy("First half (January–June)")),
            (2, gettext_lazy("Second half (July–December)")),
        ],
        widget=forms.RadioSelect,
    )
    point = forms.ModelChoiceField(
        label=gettext_lazy("Registry point"),
        queryset=RegistryPoint.objects.order_by("-is_general", "name_ro"),
        required=False,
        empty_label=gettext_lazy("All registry points"),
    )


class Info544ReportForm(forms.Form):
    year = _year_field()


def _report_forms(request, petitions=None, info=None):
    today = local_date(timezone.now())
    previous_half = (today.year, 1) if today.month > 6 else (today.year - 1, 2)
    if petitions is None:
        petitions = PetitionsReportForm(
            initial={"year": previous_half[0], "half": previous_half[1]}, auto_id="p_%s"
        )
    if info is None:
        info = Info544ReportForm(initial={"year": today.year - 1}, auto_id="i_%s")
    return {"petitions_form": petitions, "info_form": info}


@require_GET
@login_required
def reports(request):
    access_reports(request.user)
    return render(request, "registry/reports.html", _report_forms(request))


def _report_response(report: figures.Report, fmt: str):
    if fmt == "csv":
        out = io.StringIO()
        out.write("\ufeff")  # a BOM: Excel then reads the file as UTF-8 (diacritics)
        writer = csv.writer(out)
        writer.writerow([_("Section"), _("Figure"), _("Value")])
        writer.writerow([_("Report"), report.title, ""])
        writer.writerow([_("Period"), report.period, ""])
        writer.writerow([_("Registry points"), report.scope, ""])
        writer.writerow([_("Situation on"), _day(report.as_of), ""])
        for row in report.figures():
            writer.writerow(row)
        response = HttpResponse(out.getvalue().encode(), content_type="text/csv; charset=utf-8")
        return harden_file_response(response, filename=f"{report.slug}.csv")
    layout = pdf.ReportLayout(
        institution=settings.CETATEA_INSTITUTION_NAME,
        title=report.title,
        lines=[
            _("Period: %(p)s") % {"p": report.period},
            _("Registry points: %(s)s") % {"s": report.scope},
            _("Situation on %(d)s") % {"d": _day(report.as_of)},
        ],
        sections=[
            (s.title, [(r.label, str(r.value), r.indent) for r in s.rows]) for s in report.sections
        ],
        header=(_("Figure"), _("Number")),
        page_label=_("Page %(n)d"),
    )
    return _inline(pdf.report_pdf(layout), f"{report.slug}.pdf")


def _fmt(fmt: str) -> str:
    if fmt not in ("pdf", "csv"):
        raise Http404
    return fmt


@require_GET
@login_required
def petitions_report(request, fmt: str):
    access_reports(request.user)
    fmt = _fmt(fmt)
    form = PetitionsReportForm(request.GET, auto_id="p_%s")
    if not form.is_valid():
        context = _report_forms(request, petitions=form)
        return render(request, "registry/reports.html", context, status=400)
    data = form.cleaned_data
    report = figures.petitions_report(year=data["year"], half=data["half"], point=data["point"])
    return _report_response(report, fmt)


@require_GET
@login_required
def info_544_report(request, fmt: str):
    access_reports(request.user)
    fmt = _fmt(fmt)
    form = Info544ReportForm(request.GET, auto_id="i_%s")
    if not form.is_valid():
        return render(
            request, "registry/reports.html", _report_forms(request, info=form), status=400
        )
    return _report_response(figures.info_544_report(year=form.cleaned_data["year"]), fmt)
