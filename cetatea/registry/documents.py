"""Registry documents: receipt, register, reports, public status (scaffolding: the
documents helper replaces every function)."""

from django.http import Http404


def _todo(request, *args, **kwargs):
    raise Http404


receipt = register_print = reports = petitions_report = info_544_report = public_status = _todo
