"""The service catalogue: departments, teams, outside operators, categories, areas."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from cetatea.catalog.choices import Regime


class BilingualName(models.Model):
    """Romanian name first, English second; ``name`` follows the active language."""

    name_ro = models.CharField(_("name (Romanian)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200, blank=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        if (get_language() or "ro").startswith("en") and self.name_en:
            return self.name_en
        return self.name_ro


class Department(BilingualName):
    """A department of the city hall (direcție, serviciu, compartiment)."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        ordering = ["name_ro"]


class Team(BilingualName):
    """A team inside a department: a counter, a field crew, the call centre."""

    department = models.ForeignKey(
        Department, verbose_name=_("department"), on_delete=models.PROTECT, related_name="teams"
    )
    code = models.SlugField(_("code"), max_length=40, unique=True)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("members"), blank=True, related_name="teams"
    )

    class Meta:
        verbose_name = _("team")
        verbose_name_plural = _("teams")
        ordering = ["department__name_ro", "name_ro"]


class OutsideOperator(BilingualName):
    """A body outside the city hall that fixes some problems (water, sanitation, lighting)."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)

    class Meta:
        verbose_name = _("outside operator")
        verbose_name_plural = _("outside operators")
        ordering = ["name_ro"]


class Category(BilingualName):
    """A service the citizen can ask for: what, who does it, how fast."""

    code = models.CharField(_("code"), max_length=40, unique=True)
    group = models.CharField(_("group"), max_length=100, blank=True)
    department = models.ForeignKey(
        Department,
        verbose_name=_("department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="categories",
    )
    operator = models.ForeignKey(
        OutsideOperator,
        verbose_name=_("outside operator"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="categories",
    )
    target_hours = models.PositiveIntegerField(
        _("target time (hours)"), help_text=_("Internal target for solving a ticket.")
    )
    regime = models.CharField(
        _("legal regime"),
        max_length=20,
        choices=Regime.choices,
        default=Regime.PETITION,
        help_text=_("The legal clock that runs when an identified person files in this category."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    sort_order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["sort_order", "name_ro"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(department__isnull=False) | models.Q(operator__isnull=False),
                name="category_has_destination",
            )
        ]

    def clean(self):
        if not self.department_id and not self.operator_id:
            raise ValidationError(_("A category needs a department or an outside operator."))


class Area(BilingualName):
    """A neighbourhood or locality of the city, as a polygon (GeoJSON, WGS 84)."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    geometry = models.JSONField(_("polygon (GeoJSON)"))
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("area")
        verbose_name_plural = _("areas")
        ordering = ["name_ro"]

    def clean(self):
        from cetatea.catalog.geo import shape_from_geojson

        try:
            shape_from_geojson(self.geometry)
        except ValueError as exc:
            raise ValidationError({"geometry": str(exc)}) from exc


class CategoryRoute(models.Model):
    """Where a category goes in one area, when it differs from the category's default."""

    category = models.ForeignKey(
        Category, verbose_name=_("category"), on_delete=models.CASCADE, related_name="routes"
    )
    area = models.ForeignKey(
        Area, verbose_name=_("area"), on_delete=models.CASCADE, related_name="routes"
    )
    department = models.ForeignKey(
        Department, verbose_name=_("department"), null=True, blank=True, on_delete=models.PROTECT
    )
    operator = models.ForeignKey(
        OutsideOperator,
        verbose_name=_("outside operator"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
    )
    team = models.ForeignKey(
        Team, verbose_name=_("team"), null=True, blank=True, on_delete=models.PROTECT
    )

    class Meta:
        verbose_name = _("route by area")
        verbose_name_plural = _("routes by area")
        constraints = [
            models.UniqueConstraint(fields=["category", "area"], name="route_category_area"),
            models.CheckConstraint(
                condition=models.Q(department__isnull=False) | models.Q(operator__isnull=False),
                name="route_has_destination",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.category} / {self.area}"


class StaffProfile(models.Model):
    """The department a staff account belongs to (roles are Django groups)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff_profile"
    )
    department = models.ForeignKey(
        Department, verbose_name=_("department"), null=True, blank=True, on_delete=models.PROTECT
    )
    phone_extension = models.CharField(_("phone extension"), max_length=20, blank=True)

    class Meta:
        verbose_name = _("staff profile")
        verbose_name_plural = _("staff profiles")

    def __str__(self) -> str:
        return str(self.user)
