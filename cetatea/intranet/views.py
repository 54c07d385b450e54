"""The intranet's home, announcements and staff directory (thin views)."""

from __future__ import annotations

from django.shortcuts import render

from cetatea.intranet.selectors import access_intranet


def home(request):
    access_intranet(request.user)
    return render(request, "intranet/placeholder.html", {"section": "home"})


def announcements(request):
    access_intranet(request.user)
    return render(request, "intranet/placeholder.html", {"section": "announcements"})


def directory(request):
    access_intranet(request.user)
    return render(request, "intranet/placeholder.html", {"section": "directory"})
