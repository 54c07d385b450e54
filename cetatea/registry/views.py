"""Registry pages for clerks (scaffolding: the clerk-UI helper replaces every function)."""

from django.http import Http404


def _todo(request, *args, **kwargs):
    raise Http404


entry_list = entry_new = entry_detail = entry_action = entry_file = deadlines = _todo
