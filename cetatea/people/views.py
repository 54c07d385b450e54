"""Staff views on persons: search, the 360° page, reveal of a national id, merge."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cetatea.core.clientip import client_ip
from cetatea.core.models import AuditLog
from cetatea.people import selectors, services
from cetatea.people.forms import MergeForm, PersonForm, RevealForm, SearchForm
from cetatea.people.models import Person


@require_GET
@login_required
@permission_required("people.view_person", raise_exception=True)
def search(request):
    form = SearchForm(request.GET or None)
    result = None
    if form.is_valid():
        result = selectors.person_search(
            form.cleaned_data["q"],
            page=form.cleaned_data["page"] or 1,
            page_size=settings.CETATEA_PAGE_SIZE,
        )
    template = "people/_results.html" if request.htmx else "people/search.html"
    return render(request, template, {"form": form, "result": result})


@require_GET
@login_required
def detail(request, person_id: int):
    person = selectors.access_person(request.user, person_id)
    if person.merged_into_id:
        messages.info(request, _("This record was merged; showing the record it was merged into."))
        return redirect("people:detail", person_id=person.merged_into_id)
    AuditLog.objects.create(
        actor=request.user,
        action=AuditLog.Action.VIEW_PERSON,
        person_id=person.pk,
        object_repr=str(person)[:200],
        ip_address=client_ip(request),
    )
    context = {
        "person": person,
        "contacts": list(person.contact_points.all()),
        "addresses": list(person.addresses.all()),
        "open_cases": selectors.person_open_cases(person),
        "timeline": selectors.person_timeline(person, page_size=settings.CETATEA_PAGE_SIZE),
        "reveal_form": RevealForm(),
        "merge_form": MergeForm(),
    }
    return render(request, "people/detail.html", context)


@require_GET
@login_required
def timeline(request, person_id: int):
    person = selectors.access_person(request.user, person_id)
    page = selectors.person_timeline(
        person, cursor=request.GET.get("cursor", ""), page_size=settings.CETATEA_PAGE_SIZE
    )
    template = "people/_timeline.html" if request.htmx else "people/timeline.html"
    return render(request, template, {"person": person, "timeline": page})


@require_POST
@login_required
def reveal_national_id(request, person_id: int):
    person = selectors.access_person(request.user, person_id)
    form = RevealForm(request.POST)
    value = error = ""
    if not request.user.has_perm("people.reveal_national_id"):
        error = _("You are not allowed to reveal national ids.")
        status = 403
    elif not form.is_valid():
        error = _("Say why you need to see the national id.")
        status = 400
    else:
        try:
            value = services.person_reveal_national_id(
                person_id=person.pk,
                actor=request.user,
                reason=form.cleaned_data["reason"],
                ip_address=client_ip(request),
            )
            status = 200
        except ValidationError as exc:
            error, status = exc.messages[0], 400
    context = {"person": person, "value": value, "error": error, "reveal_form": form}
    template = "people/_reveal.html" if request.htmx else "people/reveal.html"
    return render(request, template, context, status=status)


@require_http_methods(["GET", "POST"])
@login_required
def merge(request, person_id: int):
    person = selectors.access_person(request.user, person_id)
    if not request.user.has_perm("people.merge_person"):
        return render(request, "403.html", status=403)
    form = MergeForm(request.POST or None, initial={"duplicate": request.GET.get("duplicate")})
    duplicate = None
    if form.is_valid():
        duplicate = Person.objects.filter(pk=form.cleaned_data["duplicate"]).first()
        if duplicate is None:
            form.add_error("duplicate", _("There is no person with this record number."))
        elif request.POST.get("confirm") == "yes":
            try:
                survivor = services.person_merge(
                    survivor_id=person.pk,
                    duplicate_id=duplicate.pk,
                    actor=request.user,
                    reason=form.cleaned_data["reason"],
                )
            except ValidationError as exc:
                form.add_error(None, exc.messages[0])
            else:
                messages.success(
                    request,
                    _("%(dup)s was merged into this record.") % {"dup": duplicate},
                )
                return redirect("people:detail", person_id=survivor.pk)
    status = 400 if form.errors else 200
    return render(
        request,
        "people/merge.html",
        {"person": person, "form": form, "duplicate": duplicate},
        status=status,
    )


@require_http_methods(["GET", "POST"])
@login_required
@permission_required("people.add_person", raise_exception=True)
def create(request):
    """Record a new person; errors from person_create are shown on their fields."""
    form = PersonForm(request.POST or None, initial={"last_name": request.GET.get("q", "")})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        addresses = []
        if data["street"]:
            addresses.append(
                services.AddressData(
                    street=data["street"],
                    number=data["number"],
                    details=data["details"],
                    locality=data["locality"],
                )
            )
        try:
            person = services.person_create(
                kind=data["kind"],
                last_name=data["last_name"],
                first_name=data["first_name"],
                national_id=data["national_id"],
                phones=[data["phone"]],
                emails=[data["email"]],
                addresses=addresses,
                actor=request.user,
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                target = {"contacts": None}.get(field, field)
                for error in errors:
                    form.add_error(target if target in form.fields else None, error)
        else:
            messages.success(request, _("The person was recorded."))
            if request.user.has_perm("people.view_person_360"):
                return redirect("people:detail", person_id=person.pk)
            return redirect("people:search")
    status = 400 if form.errors else 200
    return render(request, "people/create.html", {"form": form}, status=status)
