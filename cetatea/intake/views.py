"""The operator's intake form and the field crews' pages. Thin: parse, call, render."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from cetatea.cases.choices import Channel
from cetatea.cases.selectors import case_get_by_reference
from cetatea.catalog.models import Category
from cetatea.catalog.selectors import street_search
from cetatea.intake import selectors, services
from cetatea.intake.forms import FieldUpdateForm, IntakeForm
from cetatea.people.selectors import person_search

INTAKE_PERMISSION = "cases.add_case"


def _map_config() -> dict:
    return {
        "tiles": settings.CETATEA_TILE_URL,
        "attribution": settings.CETATEA_TILE_ATTRIBUTION,
        "center": settings.CETATEA_MAP_CENTER,
        "zoom": settings.CETATEA_MAP_ZOOM,
    }


def _float(value) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if -180 <= number <= 180 else None


def _panel(*, category_code: str, latitude, longitude, person_id) -> dict:
    """Similar open cases near the point and the caller's own open cases."""
    category = None
    if category_code:
        category = Category.objects.filter(code=category_code, is_active=True).first()
    lat, lon = _float(latitude), _float(longitude)
    nearby = []
    if category is not None and lat is not None and lon is not None:
        nearby = selectors.nearby_for_intake(category=category, latitude=lat, longitude=lon)
    person = selectors.person_for_intake(person_id) if person_id not in ("", "new") else None
    return {
        "nearby": nearby,
        "chosen_person": person,
        "own_cases": selectors.person_open_cases(person) if person else [],
    }


def _page(request, form, *, status=200, search=None):
    data = form.data if form.is_bound else form.initial
    context = {
        "form": form,
        "map_config": _map_config(),
        "search": search,
        **_panel(
            category_code=data.get("category", ""),
            latitude=data.get("latitude"),
            longitude=data.get("longitude"),
            person_id=data.get("person", ""),
        ),
    }
    return render(request, "intake/intake.html", context, status=status)


def _new_person(data) -> services.NewPerson:
    return services.NewPerson(
        last_name=data["new_last_name"],
        first_name=data["new_first_name"],
        national_id=data["new_national_id"],
        phone=data["new_phone"],
        email=data["new_email"],
    )


def _street_point(address_text: str) -> tuple[float | None, float | None]:
    """Without the map (no JavaScript), a typed street that names one street exactly
    gives the point."""
    text = (address_text or "").strip()
    if len(text) < 3:
        return None, None
    for street in street_search(text, limit=3):
        if text.casefold() in (str(street).casefold(), street.name.casefold()):
            return street.latitude, street.longitude
    return None, None


def _add_errors(form, exc: ValidationError) -> None:
    if not hasattr(exc, "error_dict"):
        for error in exc.messages:
            form.add_error(None, error)
        return
    aliases = {"location": "address_text", "case": "reference", "new_contacts": "new_phone"}
    for key, errors in exc.message_dict.items():
        target = aliases.get(key, key)
        for error in errors:
            form.add_error(target if target in form.fields else None, error)


@require_http_methods(["GET", "POST"])
@login_required
@permission_required(INTAKE_PERMISSION, raise_exception=True)
def intake(request):
    if request.method == "GET":
        channel = request.GET.get("channel", Channel.PHONE)
        initial = {
            "channel": channel if channel in services.INTAKE_CHANNELS else Channel.PHONE,
            "call": request.GET.get("call", "")[:100],
            "person": request.GET.get("person", "")[:20],
            "submission_key": uuid.uuid4().hex,
        }
        return _page(request, IntakeForm(initial=initial))

    form = IntakeForm(request.POST)
    if not form.is_valid():
        return _page(request, form, status=400)
    data = form.cleaned_data
    choice = data["person"]
    person = selectors.person_for_intake(choice) if choice not in ("", "new") else None
    if choice not in ("", "new") and person is None:
        form.add_error(None, _("The chosen person does not exist any more; search again."))
        return _page(request, form, status=400)

    if "search" in request.POST:  # the form without JavaScript: search, show, file later
        search = person_search(data["q"], page_size=10) if data["q"] else None
        return _page(request, form, search=search)

    attach = request.POST.get("attach", "")
    if attach:
        try:
            if attach == "reference":
                case_id = case_get_by_reference(data["reference"]).pk
            else:
                case_id = int(attach)
            interaction = services.intake_attach(
                channel=data["channel"],
                case_id=case_id,
                actor=request.user,
                summary=data["description"],
                person=person,
                call_id=data["call"],
                submission_key=data["submission_key"],
            )
        except (ValueError, ValidationError) as exc:
            if isinstance(exc, ValidationError):
                if hasattr(exc, "error_dict"):
                    _add_errors(form, exc)
                else:
                    form.add_error("reference", exc.messages[0])
            else:
                form.add_error(None, _("This case does not exist."))
            return _page(request, form, status=400)
        messages.success(
            request,
            _("The call was recorded on case %(ref)s; no new case was filed.")
            % {"ref": interaction.case.reference},
        )
        return redirect(reverse("intake:intake") + "?" + urlencode({"channel": data["channel"]}))

    latitude, longitude = data["latitude"], data["longitude"]
    if latitude is None and longitude is None:
        latitude, longitude = _street_point(data["address_text"])
    try:
        case = services.intake_file(
            channel=data["channel"],
            category=data["category"],
            actor=request.user,
            description=data["description"],
            title=data["title"],
            person=person,
            new_person=_new_person(data) if choice == "new" else None,
            latitude=latitude,
            longitude=longitude,
            address_text=data["address_text"],
            call_id=data["call"],
            submission_key=data["submission_key"],
        )
    except ValidationError as exc:
        _add_errors(form, exc)
        return _page(request, form, status=400)
    return redirect(
        reverse("intake:filed", kwargs={"reference": case.reference})
        + "?"
        + urlencode({"channel": data["channel"]})
    )


@require_GET
@login_required
@permission_required(INTAKE_PERMISSION, raise_exception=True)
def filed(request, reference: str):
    try:
        case = case_get_by_reference(reference)
    except ValidationError:
        return render(request, "404.html", status=404)
    channel = request.GET.get("channel", Channel.PHONE)
    return render(
        request,
        "intake/filed.html",
        {
            "case": case,
            "spoken": case.reference.replace("-", " "),
            "channel": channel if channel in services.INTAKE_CHANNELS else Channel.PHONE,
        },
    )


@require_GET
@login_required
@permission_required(INTAKE_PERMISSION, raise_exception=True)
def persons(request):
    """Callers found as the operator types (htmx partial of radio buttons)."""
    query = request.GET.get("q", "")[:200]
    search = person_search(query, page_size=10) if query.strip() else None
    chosen = request.GET.get("person", "")
    return render(
        request,
        "intake/_persons.html",
        {
            "search": search,
            "chosen_person": selectors.person_for_intake(chosen) if chosen != "new" else None,
            "chosen": chosen,
        },
    )


@require_GET
@login_required
@permission_required(INTAKE_PERMISSION, raise_exception=True)
def panel(request):
    """Similar open cases nearby and the caller's open cases (htmx partial)."""
    context = _panel(
        category_code=request.GET.get("category", ""),
        latitude=request.GET.get("latitude"),
        longitude=request.GET.get("longitude"),
        person_id=request.GET.get("person", ""),
    )
    return render(request, "intake/_panel.html", context)


# --- field crews ---------------------------------------------------------------------------------


@require_GET
@login_required
def field_list(request):
    try:
        page = int(request.GET.get("page", "1"))
    except ValueError:
        page = 1
    result = selectors.field_assignments(request.user, page=page)
    pins = [
        {
            "lat": c.latitude,
            "lon": c.longitude,
            "ref": c.reference,
            "title": c.title,
            "url": reverse("intake:field_case", kwargs={"case_id": c.pk}),
        }
        for c in result.cases
        if c.latitude is not None
    ]
    return render(
        request,
        "intake/field_list.html",
        {"result": result, "pins": pins, "map_config": _map_config()},
    )


@require_http_methods(["GET", "POST"])
@login_required
def field_case(request, case_id: int):
    case = selectors.access_field_case(request.user, case_id)
    statuses = selectors.allowed_statuses(case)
    form = FieldUpdateForm(request.POST or None, request.FILES or None, statuses=statuses)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.field_update(
                    case_id=case.pk,
                    actor=request.user,
                    status=form.cleaned_data["status"],
                    note=form.cleaned_data["note"],
                    photos=form.cleaned_data["photos"],
                )
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                messages.success(request, _("Case %(ref)s updated.") % {"ref": case.reference})
                return redirect("intake:field")
        status = 400
    return render(
        request,
        "intake/field_case.html",
        {
            "case": case,
            "form": form,
            "events": selectors.recent_events(case),
            "photos": list(case.photos.order_by("sort_order", "id")[:10]),
        },
        status=status,
    )
