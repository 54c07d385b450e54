"""RSS/Atom feeds: one case's updates, new cases in a neighbourhood or around a place."""

from __future__ import annotations

from django.contrib.syndication.views import Feed
from django.core.exceptions import ValidationError
from django.http import Http404
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.translation import gettext as _

from cetatea.catalog.models import Area
from cetatea.core.db import filter_unindexed
from cetatea.portal import selectors

ITEMS = 30


class CaseUpdatesFeed(Feed):
    feed_type = Atom1Feed

    def get_object(self, request, reference):
        try:
            return selectors.public_case(reference)
        except ValidationError as exc:
            raise Http404(exc.messages[0]) from exc

    def title(self, case):
        return f"{case.reference}: {case.title}"

    def link(self, case):
        return reverse("portal:case", args=[case.reference])

    def subtitle(self, case):
        return _("Updates of a report on the city map")

    def items(self, case):
        return list(reversed(selectors.public_history(case)))[:ITEMS]

    def item_title(self, event):
        return event.get_to_status_display() or event.get_kind_display()

    def item_description(self, event):
        moderation = getattr(event, "moderation", None)
        if moderation is not None and moderation.text:
            return moderation.text
        return event.text

    def item_link(self, event):
        return reverse("portal:case", args=[event.case.reference]) + f"#event-{event.pk}"

    def item_pubdate(self, event):
        return event.created_at


class _NewCasesFeed(Feed):
    feed_type = Atom1Feed

    def items(self, obj):
        return (
            self.queryset(obj).select_related("category").order_by("-registered_at", "-id")[:ITEMS]
        )

    def item_title(self, case):
        return f"{case.reference}: {case.title}"

    def item_description(self, case):
        return f"{case.category.name} — {case.get_status_display()}"

    def item_link(self, case):
        return reverse("portal:case", args=[case.reference])

    def item_pubdate(self, case):
        return case.registered_at


class AreaFeed(_NewCasesFeed):
    def get_object(self, request, code):
        area = Area.objects.filter(code=code).first()
        if area is None:
            raise Http404(_("There is no such neighbourhood."))
        return area

    def title(self, area):
        return _("New problems in %(area)s") % {"area": area.name}

    def link(self, area):
        return reverse("portal:list") + f"?area={area.code}"

    def queryset(self, area):
        # Newest first through the time index: a neighbourhood holds many cases.
        return filter_unindexed(selectors.public_cases(), area_id=area.pk)


class AroundFeed(_NewCasesFeed):
    def get_object(self, request):
        try:
            lat = float(request.GET["lat"])
            lon = float(request.GET["lon"])
            radius = max(100, min(int(request.GET.get("radius", "500")), 5000))
        except (KeyError, ValueError) as exc:
            raise Http404(_("Give a place (lat, lon) and a distance.")) from exc
        return (lat, lon, radius)

    def title(self, obj):
        return _("New problems within %(m)d m of a place") % {"m": obj[2]}

    def link(self, obj):
        return reverse("portal:home") + f"#{obj[0]},{obj[1]}"

    def queryset(self, obj):
        lat, lon, radius = obj
        return selectors.public_cases().filter(**selectors.around_filter(lat, lon, radius))

    def items(self, obj):
        lat, lon, radius = obj
        rows = super().items(obj)
        return [
            c for c in rows if selectors.distance_m(lat, lon, c.latitude, c.longitude) <= radius
        ]
