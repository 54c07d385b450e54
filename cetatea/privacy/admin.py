from django.contrib import admin

from cetatea.core.admin import ReadOnlyAdmin
from cetatea.privacy.models import Erasure


@admin.register(Erasure)
class ErasureAdmin(ReadOnlyAdmin):
    """Read-only: an erasure is done by privacy.services.person_erase, never here."""

    list_display = ("erased_at", "person_id", "actor", "reason")
    list_select_related = ("actor",)
    date_hierarchy = "erased_at"
