"""The service catalogue: departments, teams, outside operators, categories, areas."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from cetatea.catalog.choices import Regime
from cetatea.core.fields import SearchKeyField


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
    # --- the citizen's map ---
    on_map = models.BooleanField(
        _("reportable on the city map"),
        default=True,
        help_text=_("Offered on the public map; cases in it are shown publicly once confirmed."),
    )
    notice_ro = models.TextField(_("notice (Romanian)"), blank=True)
    notice_en = models.TextField(_("notice (English)"), blank=True)
    requires_photo = models.BooleanField(_("a photo is required"), default=False)
    duplicate_radius_m = models.PositiveIntegerField(
        _("radius for similar reports (m)"), default=50
    )
    confirm_by_email = models.BooleanField(
        _("anonymous reports are confirmed by e-mail before they are public"), default=True
    )

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


class CategoryQuestion(models.Model):
    """An extra question of a category (an Open311 attribute definition)."""

    class Datatype(models.TextChoices):
        STRING = "string", _("Short text")
        TEXT = "text", _("Long text")
        NUMBER = "number", _("Number")
        SINGLE = "singlevaluelist", _("One choice")
        MULTI = "multivaluelist", _("Several choices")

    category = models.ForeignKey(
        Category, verbose_name=_("category"), on_delete=models.CASCADE, related_name="questions"
    )
    code = models.SlugField(_("code"), max_length=50)
    label_ro = models.CharField(_("question (Romanian)"), max_length=200)
    label_en = models.CharField(_("question (English)"), max_length=200, blank=True)
    datatype = models.CharField(
        _("type of answer"), max_length=20, choices=Datatype.choices, default=Datatype.STRING
    )
    required = models.BooleanField(_("required"), default=False)
    # [{"key": "yes", "name_ro": "Da", "name_en": "Yes"}, ...] for the list types.
    choices = models.JSONField(_("choices"), default=list, blank=True)
    sort_order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("extra question")
        verbose_name_plural = _("extra questions")
        ordering = ["sort_order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["category", "code"], name="question_code_unique")
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        if (get_language() or "ro").startswith("en") and self.label_en:
            return self.label_en
        return self.label_ro

    def choice_label(self, key: str) -> str:
        english = (get_language() or "ro").startswith("en")
        for choice in self.choices:
            if choice.get("key") == key:
                return (choice.get("name_en") if english else "") or choice.get("name_ro", key)
        return key


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


class Street(models.Model):
    """A street of the city, so that a place can be typed instead of tapped on the map."""

    name = models.CharField(_("name"), max_length=200)
    name_key = SearchKeyField(max_length=200, editable=False, db_index=True)
    locality = models.CharField(_("locality"), max_length=100, default="Alba Iulia")
    latitude = models.FloatField(_("latitude"))
    longitude = models.FloatField(_("longitude"))

    class Meta:
        verbose_name = _("street")
        verbose_name_plural = _("streets")
        ordering = ["name_key", "id"]
        constraints = [models.UniqueConstraint(fields=["name", "locality"], name="street_unique")]

    def __str__(self) -> str:
        return f"{self.name}, {self.locality}"


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
