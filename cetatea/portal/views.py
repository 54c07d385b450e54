"""The citizen's map: public pages. Thin views over portal.services and portal.selectors."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_ratelimit.decorators import ratelimit

from cetatea.cases import photos as photo_service
from cetatea.cases.models import CaseEvent, Photo
from cetatea.catalog.models import Area, Category
from cetatea.catalog.selectors import street_search
from cetatea.core import faults
from cetatea.core.security import rate_limit, too_many_requests
from cetatea.portal import selectors, services
from cetatea.portal.forms import (
    AlertForm,
    FeedbackForm,
    LoginForm,
    ModerationForm,
    ReportForm,
    SupportForm,
)
from cetatea.portal.models import CitizenAccount, Subscription
from cetatea.revenue import views as revenue_views

REPORT_RATE = "20/h"
MAIL_RATE = "10/h"
# The map's and the report form's lookups (pins, streets, nearby cases): generous, per address.
LOOKUP_RATE = "600/m"


def _account(request) -> CitizenAccount | None:
    if request.user.is_authenticated:
        return CitizenAccount.objects.filter(user=request.user).select_related("person").first()
    return None


def _map_config() -> dict:
    return {
        "tiles": settings.CETATEA_TILE_URL,
        "attribution": settings.CETATEA_TILE_ATTRIBUTION,
        "center": settings.CETATEA_MAP_CENTER,
        "zoom": settings.CETATEA_MAP_ZOOM,
    }


def _filters(request) -> selectors.MapFilters:
    cats = tuple(c for c in request.GET.getlist("category") if c)[:40]
    state = request.GET.get("state", "all")
    age = request.GET.get("age", selectors.DEFAULT_AGE)
    return selectors.MapFilters(
        categories=cats,
        state=state if state in ("open", "closed", "all") else "all",
        age=age if age in selectors.AGES else selectors.DEFAULT_AGE,
    )


# --- map, list, features ------------------------------------------------------------------


@require_GET
def home(request):
    categories = Category.objects.filter(is_active=True, on_map=True).order_by("group", "name_ro")
    return render(
        request,
        "portal/home.html",
        {"map_config": _map_config(), "categories": categories, "filters": _filters(request)},
    )


@require_GET
@rate_limit(LOOKUP_RATE, methods=("GET", "HEAD"))
def features(request):
    """Pins or clusters of a bounding box, as JSON for the map."""
    try:
        bbox = selectors.parse_bbox(request.GET.get("bbox", ""))
        zoom = int(request.GET.get("zoom", "14"))
    except (ValidationError, ValueError) as exc:
        message = exc.messages[0] if isinstance(exc, ValidationError) else _("Bad zoom level.")
        return JsonResponse({"error": message}, status=400)
    result = selectors.map_features(bbox, _filters(request), zoom=max(0, min(zoom, 22)))
    response = JsonResponse({"kind": result.kind, "pins": result.pins, "clusters": result.clusters})
    response["Cache-Control"] = "public, max-age=30"
    return response


@require_GET
def case_list(request):
    """The accessible alternative to the map: the same public cases as a paged list."""
    filters = _filters(request)
    try:
        page = max(1, min(int(request.GET.get("page", "1")), 200))
    except ValueError:
        page = 1
    area_code = request.GET.get("area", "")
    cases, has_next = selectors.case_list(filters=filters, area_code=area_code, page=page)
    return render(
        request,
        "portal/case_list.html",
        {
            "cases": cases,
            "page": page,
            "has_next": has_next,
            "filters": filters,
            "areas": Area.objects.order_by("name_ro"),
            "area_code": area_code,
            "categories": Category.objects.filter(is_active=True, on_map=True).order_by("name_ro"),
            "query": request.GET.urlencode(),
        },
    )


@require_GET
@rate_limit(LOOKUP_RATE, methods=("GET", "HEAD"))
def streets(request):
    """Street names for the typed location (JSON for the script, HTML for htmx)."""
    query = request.GET.get("q") or request.GET.get("address_text", "")
    found = street_search(query, limit=10) if len(query.strip()) >= 3 else []
    if request.headers.get("Accept", "").startswith("application/json"):
        return JsonResponse(
            {
                "streets": [
                    {"id": s.pk, "name": str(s), "lat": s.latitude, "lon": s.longitude}
                    for s in found
                ]
            }
        )
    return render(request, "portal/_streets.html", {"streets": found})


# --- report ---------------------------------------------------------------------------------


def _answers(request) -> dict[str, list[str]]:
    answers: dict[str, list[str]] = {}
    for key in request.POST:
        if key.startswith("attribute[") and key.endswith("]"):
            answers[key[10:-1]] = request.POST.getlist(key)
    return answers


@require_http_methods(["GET", "POST"])
@ratelimit(key="ip", rate=REPORT_RATE, method="POST", block=False)
def report(request):
    account = _account(request)
    if request.method == "POST":
        form = ReportForm(request.POST, request.FILES)
        if getattr(request, "limited", False):
            form.is_valid()
            form.add_error(
                None, _("Too many reports from your connection; please try again later.")
            )
            return _report_page(request, form, status=429)
        if form.is_valid():
            if form.is_spam():
                form.add_error(
                    None,
                    _(
                        "Your report looks automated and was not filed. "
                        "Please fill in the form again."
                    ),
                )
                return _report_page(request, form, status=400)
            data = form.cleaned_data
            try:
                result = services.report_submit(
                    category=data["category"],
                    latitude=data["latitude"] or None,
                    longitude=data["longitude"] or None,
                    title=data["title"],
                    description=data["description"],
                    photos=request.FILES.getlist("photos"),
                    answers=_answers(request),
                    name=data["name"],
                    email=data["email"],
                    phone=data["phone"],
                    show_name=data["show_name"],
                    address_text=data["address_text"],
                    account=account,
                    submission_key=data["submission_key"],
                )
            except ValidationError as exc:
                for fieldname, errs in exc.message_dict.items():
                    target = fieldname if fieldname in form.fields else None
                    if fieldname == "location":
                        target = "address_text"
                    for err in errs:
                        form.add_error(target, err)
                return _report_page(request, form, status=400, answers=_answers(request))
            except OSError as exc:
                if not faults.storage_full(exc):
                    raise
                # The whole report was rolled back: say so on the form, which keeps the text.
                form.add_error(
                    "photos",
                    _(
                        "The server cannot store the photo right now; your report was not "
                        "saved. Please try again later."
                    ),
                )
                response = _report_page(request, form, status=507, answers=_answers(request))
                response["Retry-After"] = str(faults.RETRY_AFTER_SECONDS)
                return response
            for error in result.photo_errors:
                messages.warning(request, error)
            if result.needs_confirmation:
                messages.success(
                    request,
                    _("Almost done: open the link we sent to your e-mail to confirm the report."),
                )
                return redirect("portal:thanks", reference=result.case.reference)
            messages.success(
                request,
                _("Thank you! Your report was registered as %(ref)s.")
                % {"ref": result.case.reference},
            )
            return redirect("portal:case", reference=result.case.reference)
        return _report_page(request, form, status=400, answers=_answers(request))
    initial = {
        "latitude": request.GET.get("lat", ""),
        "longitude": request.GET.get("lon", ""),
        "category": request.GET.get("category", ""),
        "submission_key": uuid.uuid4().hex,
    }
    return _report_page(request, ReportForm(initial=initial))


def _report_page(request, form, *, status=200, answers=None):
    categories = list(
        Category.objects.filter(is_active=True, on_map=True).prefetch_related("questions")
    )
    return render(
        request,
        "portal/report.html",
        {
            "form": form,
            "map_config": _map_config(),
            "categories": categories,
            "answers": answers or {},
            "account": _account(request),
            "max_photos": settings.CETATEA_PHOTOS_PER_CASE,
        },
        status=status,
    )


@require_GET
@rate_limit(LOOKUP_RATE, methods=("GET", "HEAD"))
def nearby(request):
    """Open cases of the same category near the chosen point (before submitting)."""
    category = Category.objects.filter(code=request.GET.get("category", ""), on_map=True).first()
    try:
        lat, lon = float(request.GET["lat"]), float(request.GET["lon"])
    except (KeyError, ValueError):
        category = None
    found = (
        selectors.nearby_open_cases(category=category, latitude=lat, longitude=lon)
        if category
        else []
    )
    return render(request, "portal/_nearby.html", {"nearby": found})


@require_POST
@ratelimit(key="ip", rate="60/h", method="POST", block=False)
def photo_location(request):
    """Read the GPS position of a photo (not stored) to offer it as the report's place."""
    from PIL import Image, UnidentifiedImageError

    from cetatea.cases import photos as photo_service

    if getattr(request, "limited", False):
        return too_many_requests(request)
    upload = request.FILES.get("photo")
    if upload is None:
        return JsonResponse({"error": _("No photo.")}, status=400)
    try:
        photo_service.photo_check(upload)
        with Image.open(upload) as image:
            position = photo_service.read_gps(image)
    except (ValidationError, UnidentifiedImageError, OSError):
        return JsonResponse({"error": _("This file is not a photo.")}, status=400)
    if position is None:
        return JsonResponse({"found": False})
    return JsonResponse({"found": True, "lat": position[0], "lon": position[1]})


@require_GET
def thanks(request, reference: str):
    return render(request, "portal/thanks.html", {"reference": reference})


@require_GET
def confirm(request, token: str):
    try:
        case = services.report_confirm(token)
    except ValidationError as exc:
        return render(request, "portal/message.html", {"error": exc.messages[0]}, status=400)
    messages.success(request, _("Thank you, your report is confirmed and public."))
    return redirect("portal:case", reference=case.reference)


# --- the public case page -------------------------------------------------------------------


@require_GET
def case_detail(request, reference: str):
    try:
        case = selectors.public_case(reference)
    except ValidationError as exc:
        raise Http404(exc.messages[0]) from exc
    if case.merged_into_id and case.merged_into.publication == "public":
        messages.info(request, _("This report was a duplicate; here is the original."))
        return redirect("portal:case", reference=case.merged_into.reference)
    return render(
        request,
        "portal/case_detail.html",
        {
            "case": case,
            "history": selectors.public_history(case),
            "photos": selectors.public_photos(case),
            "support_form": SupportForm(),
            "map_config": _map_config(),
            "answers": selectors.public_answers(case),
        },
    )


@require_POST
@ratelimit(key="ip", rate=MAIL_RATE, method="POST", block=False)
def support(request, reference: str):
    if getattr(request, "limited", False):
        error = _("Too many requests from your connection; try again later.")
        return render(request, "portal/message.html", {"error": error}, status=429)
    try:
        case = selectors.public_case(reference)
    except ValidationError as exc:
        raise Http404(exc.messages[0]) from exc
    form = SupportForm(request.POST)
    if form.is_valid():
        try:
            added = services.case_support(case=case, email=form.cleaned_data["email"])
        except ValidationError as exc:
            messages.error(request, exc.messages[0])
        else:
            messages.success(
                request,
                _("Thank you: you are counted, and we sent you a link to follow the case.")
                if added
                else _("You already follow this case."),
            )
    else:
        messages.error(request, _("Enter a valid e-mail address."))
    return redirect("portal:case", reference=case.reference)


# --- alerts -----------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@ratelimit(key="ip", rate=MAIL_RATE, method="POST", block=False)
def alerts(request):
    form = AlertForm(request.POST or None, initial={"radius_m": 500})
    if request.method == "POST" and getattr(request, "limited", False):
        form.is_valid()
        form.add_error(None, _("Too many requests from your connection; try again later."))
    elif request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if data["area"]:
                services.subscription_request(
                    kind=Subscription.Kind.AREA, email=data["email"], area=data["area"]
                )
            else:
                found = street_search(data["street"], limit=1) if data["street"] else []
                if not found:
                    raise ValidationError(_("Choose a neighbourhood or a street of the city."))
                services.subscription_request(
                    kind=Subscription.Kind.RADIUS,
                    email=data["email"],
                    latitude=found[0].latitude,
                    longitude=found[0].longitude,
                    radius_m=data["radius_m"] or 500,
                )
        except ValidationError as exc:
            form.add_error(None, exc.messages[0])
        else:
            messages.success(request, _("We sent you a link to confirm the alert."))
            return redirect("portal:alerts")
    return render(
        request,
        "portal/alerts.html",
        {"form": form, "map_config": _map_config(), "areas": Area.objects.order_by("name_ro")},
        status=_form_status(request, form),
    )


@require_GET
def subscription_confirm(request, token: str):
    try:
        services.subscription_confirm(token)
    except ValidationError as exc:
        return render(request, "portal/message.html", {"error": exc.messages[0]}, status=400)
    return render(request, "portal/message.html", {"text": _("Your alert is active.")})


def _form_status(request, form) -> int:
    """429 for a POST over its rate limit, 400 for a form with errors, else 200."""
    if request.method == "POST" and getattr(request, "limited", False):
        return 429
    return 400 if form.errors else 200


@require_http_methods(["GET", "POST"])
@rate_limit(MAIL_RATE)
def unsubscribe(request, token: str):
    if request.method == "POST":
        try:
            services.subscription_cancel(token)
        except ValidationError as exc:
            return render(request, "portal/message.html", {"error": exc.messages[0]}, status=400)
        return render(request, "portal/message.html", {"text": _("You will get no more alerts.")})
    return render(request, "portal/unsubscribe.html", {"token": token})


# --- after closure ----------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@rate_limit(MAIL_RATE)
def feedback(request, token: str):
    try:
        case = services.feedback_case(token)
    except ValidationError as exc:
        return render(request, "portal/message.html", {"error": exc.messages[0]}, status=400)
    form = FeedbackForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.feedback_submit(case=case, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc.messages[0])
        else:
            messages.success(request, _("Thank you for your answer."))
            return redirect("portal:case", reference=case.reference)
    return render(
        request,
        "portal/feedback.html",
        {"case": case, "form": form},
        status=400 if form.errors else 200,
    )


# --- citizen account --------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@ratelimit(key="ip", rate=MAIL_RATE, method="POST", block=False)
def account(request):
    acct = _account(request)
    if acct is not None:
        try:
            page = max(1, int(request.GET.get("page", "1")))
        except ValueError:
            page = 1
        cases, has_next = selectors.citizen_cases(person=acct.person, email=acct.email, page=page)
        context = {"account": acct, "cases": cases, "page": page, "has_next": has_next}
        context.update(revenue_views.portal_context(acct))  # "My taxes and fines"
        return render(request, "portal/account.html", context)
    form = LoginForm(request.POST or None)
    if request.method == "POST" and getattr(request, "limited", False):
        form.is_valid()
        form.add_error(None, _("Too many requests from your connection; try again later."))
    elif request.method == "POST" and form.is_valid():
        services.login_link_request(
            email=form.cleaned_data["email"], name=form.cleaned_data["name"]
        )
        return render(
            request,
            "portal/message.html",
            {
                "text": _(
                    "If the address is right, a login link is on its way. It is valid for one hour."
                )
            },
        )
    return render(request, "portal/login.html", {"form": form}, status=_form_status(request, form))


@require_GET
def login_verify(request, token: str):
    try:
        acct = services.login_verify(token)
    except ValidationError as exc:
        return render(request, "portal/message.html", {"error": exc.messages[0]}, status=400)
    login(request, acct.user, backend="django.contrib.auth.backends.ModelBackend")
    return redirect("portal:account")


@require_POST
def account_logout(request):
    logout(request)
    return redirect("portal:home")


# --- moderation (staff) -----------------------------------------------------------------------


def _boxes(text: str) -> list[tuple[float, float, float, float]]:
    """``10, 20, 30, 15`` per line (percent) -> fractions; ValidationError if malformed."""
    boxes = []
    for line in (text or "").splitlines():
        if not line.strip():
            continue
        try:
            x, y, w, h = (float(v) / 100 for v in line.replace(";", ",").split(","))
        except ValueError as exc:
            raise ValidationError(
                _("Write each area as four numbers: x, y, width, height (in percent).")
            ) from exc
        boxes.append((x, y, w, h))
    if not boxes:
        raise ValidationError(_("Write at least one area to black out."))
    return boxes


@require_http_methods(["GET", "POST"])
@login_required
@permission_required("cases.moderate_case", raise_exception=True)
def moderate(request, reference: str):
    from cetatea.cases.selectors import case_get_by_reference

    try:
        case = case_get_by_reference(reference)
    except ValidationError as exc:
        raise Http404(exc.messages[0]) from exc
    form = ModerationForm(
        request.POST or None, initial={"title": case.title, "description": case.description}
    )
    if request.method == "POST" and form.is_valid():
        action = request.POST.get("action", "")
        reason = form.cleaned_data["reason"]
        try:
            if action in ("hide", "show"):
                services.moderate_case(
                    case_id=case.pk, actor=request.user, reason=reason, hide=action == "hide"
                )
            elif action == "edit":
                services.moderate_case(
                    case_id=case.pk,
                    actor=request.user,
                    reason=reason,
                    title=form.cleaned_data["title"],
                    description=form.cleaned_data["description"],
                )
            elif action in ("hide_photo", "show_photo"):
                photo = get_object_or_404(Photo, pk=request.POST.get("photo"), case=case)
                services.moderate_photo(
                    photo_id=photo.pk,
                    actor=request.user,
                    reason=reason,
                    hide=action == "hide_photo",
                )
            elif action == "redact_photo":
                photo = get_object_or_404(Photo, pk=request.POST.get("photo"), case=case)
                photo_service.photo_redact(
                    photo_id=photo.pk,
                    boxes=_boxes(form.cleaned_data["boxes"]),
                    actor=request.user,
                )
                services.audit_moderation(
                    actor=request.user, case=case, what=f"photo {photo.pk} redacted", reason=reason
                )
            elif action == "hide_event":
                event = get_object_or_404(CaseEvent, pk=request.POST.get("event"), case=case)
                services.moderate_event(
                    event_id=event.pk, actor=request.user, reason=reason, hide=True
                )
            else:
                raise ValidationError(_("Unknown action."))
        except ValidationError as exc:
            form.add_error(None, exc.messages[0])
        else:
            messages.success(request, _("Done; the change was recorded in the audit log."))
            return redirect("portal:moderate", reference=case.reference)
    return render(
        request,
        "portal/moderate.html",
        {
            "case": case,
            "form": form,
            "photos": list(case.photos.all()),
            "events": list(case.events.filter(is_public=True).select_related("moderation")),
        },
        status=400 if form.errors else 200,
    )
