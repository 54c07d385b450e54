"""Where balances are seen: the panel of the person's 360° page (staff), the citizen's
"My taxes and fines" on the portal account page, and the PDF statement for both.

Thin views: ``selectors`` says who may see which account, ``balance.account_balance``
computes, ``services`` writes the audit row or the citizen's link, ``pdf`` lays out.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods
from django_ratelimit.decorators import ratelimit

from cetatea.core.clientip import client_ip
from cetatea.core.security import harden_file_response
from cetatea.portal.models import CitizenAccount
from cetatea.revenue import pdf, selectors, services
from cetatea.revenue.balance import Balance, account_balance
from cetatea.revenue.forms import TaxLinkForm

# Link attempts per address and hour, whatever the login: the per-citizen lock lives in
# the database (selectors.link_locked_until); this one stops many logins from one place.
LINK_RATE = "30/h"


def _pdf_response(balance: Balance) -> HttpResponse:
    content = pdf.statement_pdf(balance)
    name = slugify(f"situatie-fiscala-{balance.account.external_id}-{balance.today:%Y-%m-%d}")
    response = HttpResponse(content, content_type="application/pdf")
    return harden_file_response(response, filename=f"{name}.pdf", inline=True)


# --- staff ---------------------------------------------------------------------------------


@require_GET
@login_required
@never_cache
def person_balance(request, person_id: int):
    """The 360° page's panel (htmx) or, without JavaScript, a page of its own."""
    person = selectors.access_person_balance(request.user, person_id)
    balances = selectors.person_balances(person)
    services.balance_view_record(
        actor=request.user,
        person=person,
        accounts=[b.account for b in balances],
        what="panel",
        ip_address=client_ip(request),
    )
    context = {"person": person, "statements": [selectors.statement(b) for b in balances]}
    template = "revenue/_person_panel.html" if request.htmx else "revenue/person_balance.html"
    return render(request, template, context)


@require_GET
@login_required
@never_cache
def statement(request, account_id: int):
    """The PDF statement of one taxpayer account, for staff."""
    account = selectors.access_staff_account(request.user, account_id)
    balance = account_balance(account, today=selectors.today())
    services.balance_view_record(
        actor=request.user,
        person=account.person,
        accounts=[account],
        what="statement",
        ip_address=client_ip(request),
    )
    return _pdf_response(balance)


# --- the citizen -------------------------------------------------------------------------


def portal_context(citizen: CitizenAccount, form: TaxLinkForm | None = None) -> dict:
    """What the "My taxes and fines" section of the portal account page shows."""
    locked_until = selectors.link_locked_until(citizen)
    return {
        "tax_statements": [selectors.statement(b) for b in selectors.citizen_balances(citizen)],
        "tax_form": form or TaxLinkForm(),
        "tax_locked": services.locked_message(locked_until) if locked_until else "",
    }


@require_http_methods(["GET", "POST"])
@ratelimit(key="ip", rate=LINK_RATE, method="POST", block=False)
@never_cache
def portal_link(request):
    """Link a tax record to the citizen's login (the form of the account page)."""
    citizen = selectors.citizen_of(request.user)
    if citizen is None:
        return redirect("portal:account")
    form = TaxLinkForm(request.POST or None)
    status = 200
    if request.method == "POST" and getattr(request, "limited", False):
        form.is_valid()
        form.add_error(None, _("Too many requests from your connection; try again later."))
        status = 429
    elif request.method == "POST" and form.is_valid():
        try:
            services.portal_tax_link(
                citizen=citizen,
                national_id=form.cleaned_data["national_id"],
                account_number=form.cleaned_data["account_number"],
            )
        except ValidationError as exc:
            code = getattr(exc, "code", None)
            if hasattr(exc, "error_dict"):
                for field, errors in exc.message_dict.items():
                    for error in errors:
                        form.add_error(field, error)
            elif code != "locked":  # the page says it once, with the time (portal_context)
                form.add_error(None, exc.messages[0])
            status = 429 if code == "locked" else 400
        else:
            messages.success(request, _("Your tax record is linked to your account."))
            return redirect(reverse("portal:account") + "#taxes")
    elif form.errors:
        status = 400
    context = {"citizen": citizen, **portal_context(citizen, form)}
    return render(request, "revenue/portal_link.html", context, status=status)


@require_GET
@never_cache
def portal_statement(request, account_id: int):
    """The PDF statement of a tax record the citizen linked; any other is a 404."""
    if not request.user.is_authenticated:
        return redirect("portal:account")
    account = selectors.access_citizen_account(request.user, account_id)
    return _pdf_response(account_balance(account, today=selectors.today()))
