"""Persons (citizens and organisations), their contact points and addresses."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from cetatea.core.fields import SearchKeyField
from cetatea.people.choices import AddressKind, ContactKind, PersonEventKind, PersonKind


class PersonQuerySet(models.QuerySet):
    def active(self):
        return self.filter(merged_into__isnull=True)


class Person(models.Model):
    """A citizen or an organisation the city deals with.

    The national id (CNP or CUI) is never stored in clear: ``national_id_encrypted``
    holds a Fernet token, ``national_id_hash`` a keyed hash for exact lookup and
    ``national_id_masked`` what staff see without a reveal.
    """

    kind = models.CharField(
        _("kind"), max_length=20, choices=PersonKind.choices, default=PersonKind.INDIVIDUAL
    )
    first_name = models.CharField(_("first name"), max_length=100, blank=True)
    last_name = models.CharField(_("last name / organisation name"), max_length=200)
    # Folded keys for search: "last first" and "first last" (see core.text).
    name_key = SearchKeyField(max_length=300, editable=False)
    name_key_rev = SearchKeyField(max_length=300, editable=False)

    national_id_kind = models.CharField(_("national id type"), max_length=3, blank=True)
    national_id_encrypted = models.TextField(editable=False, blank=True)
    national_id_hash = models.CharField(max_length=64, editable=False, blank=True)
    national_id_masked = models.CharField(_("national id"), max_length=20, blank=True)

    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("merged into"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="merged_from",
        # A full index here makes SQLite, before ANALYZE, prefer it for every
        # "merged_into IS NULL" search; the partial index below covers the rare lookups.
        db_index=False,
    )

    objects = PersonQuerySet.as_manager()

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("persons")
        ordering = ["name_key", "id"]
        permissions = [
            ("view_person_360", _("Can open a person's 360° view")),
            ("reveal_national_id", _("Can reveal a national id")),
            ("merge_person", _("Can merge duplicate persons")),
        ]
        indexes = [
            models.Index(fields=["national_id_hash"], name="person_nid_hash_idx"),
            models.Index(fields=["name_key", "id"], name="person_name_key_idx"),
            models.Index(fields=["name_key_rev", "id"], name="person_name_key_rev_idx"),
            models.Index(
                fields=["merged_into"],
                condition=models.Q(merged_into__isnull=False),
                name="person_merged_into_idx",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["national_id_hash"],
                condition=models.Q(merged_into__isnull=True) & ~models.Q(national_id_hash=""),
                name="person_active_nid_unique",
            )
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        if self.first_name:
            return f"{self.last_name} {self.first_name}"
        return self.last_name


class ContactPoint(models.Model):
    """A phone number (E.164) or an e-mail address (lower case) of a person."""

    person = models.ForeignKey(
        Person, verbose_name=_("person"), on_delete=models.CASCADE, related_name="contact_points"
    )
    kind = models.CharField(_("type"), max_length=10, choices=ContactKind.choices)
    value = models.CharField(_("value"), max_length=254)
    label = models.CharField(_("label"), max_length=50, blank=True)
    is_primary = models.BooleanField(_("primary"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("contact point")
        verbose_name_plural = _("contact points")
        ordering = ["-is_primary", "kind", "id"]
        indexes = [models.Index(fields=["kind", "value"], name="contact_lookup_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["person", "kind", "value"], name="contact_unique_per_person"
            )
        ]

    def __str__(self) -> str:
        return self.value


class Address(models.Model):
    """A postal address of a person."""

    person = models.ForeignKey(
        Person, verbose_name=_("person"), on_delete=models.CASCADE, related_name="addresses"
    )
    kind = models.CharField(
        _("type"), max_length=20, choices=AddressKind.choices, default=AddressKind.DOMICILE
    )
    street = models.CharField(_("street"), max_length=200)
    number = models.CharField(_("number"), max_length=20, blank=True)
    details = models.CharField(_("building, entrance, flat"), max_length=100, blank=True)
    locality = models.CharField(_("locality"), max_length=100, default="Alba Iulia")
    county = models.CharField(_("county"), max_length=50, default="Alba")
    postal_code = models.CharField(_("postal code"), max_length=6, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("address")
        verbose_name_plural = _("addresses")
        ordering = ["kind", "id"]

    def __str__(self) -> str:
        parts = [f"{self.street} {self.number}".strip(), self.details, self.locality]
        return ", ".join(p for p in parts if p)


class PersonEvent(models.Model):
    """Something that happened to the person's record itself, shown on the timeline."""

    person = models.ForeignKey(
        Person, verbose_name=_("person"), on_delete=models.CASCADE, related_name="events"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=PersonEventKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("staff member"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    text = models.TextField(_("text"), blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(_("time"), auto_now_add=True)

    class Meta:
        verbose_name = _("person event")
        verbose_name_plural = _("person events")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["person", "-created_at", "-id"], name="personevent_tl_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.created_at:%Y-%m-%d}"
