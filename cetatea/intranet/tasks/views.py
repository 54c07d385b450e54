"""The intranet's tasks: views (thin; logic in services.py and selectors.py)."""

from django.shortcuts import render

from cetatea.intranet.selectors import access_intranet


def index(request):
    access_intranet(request.user)
    return render(request, "intranet/placeholder.html", {"section": "tasks"})
