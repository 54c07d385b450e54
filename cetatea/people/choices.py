from django.db import models
from django.utils.translation import gettext_lazy as _


class PersonKind(models.TextChoices):
    INDIVIDUAL = "individual", _("Citizen")
    ORGANISATION = "organisation", _("Organisation")


class ContactKind(models.TextChoices):
    PHONE = "phone", _("Phone")
    EMAIL = "email", _("E-mail")


class AddressKind(models.TextChoices):
    DOMICILE = "domicile", _("Domicile")
    RESIDENCE = "residence", _("Residence")
    CORRESPONDENCE = "correspondence", _("Correspondence")
    SEAT = "seat", _("Registered office")


class PersonEventKind(models.TextChoices):
    CREATED = "created", _("Record created")
    UPDATED = "updated", _("Record updated")
    MERGED = "merged", _("Duplicate record merged into this one")
