"""Write each active department's monthly report as a PDF (for a monthly timer).

By default the previous month's reports go to ``MEDIA_ROOT/insights/reports/YYYY-MM/
<code>.pdf``; running it again overwrites them. The reports are in the site's language.
"""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import translation

from cetatea.catalog.models import Department
from cetatea.insights import report, selectors


class Command(BaseCommand):
    help = "Write one PDF report per active department for a month (the previous one)."

    def add_arguments(self, parser):
        parser.add_argument("--month", help="YYYY-MM (default: the previous month)")
        parser.add_argument("--out", help="Folder (default: MEDIA_ROOT/insights/reports/YYYY-MM)")

    def handle(self, *args, month=None, out=None, **options):
        if month:
            match = re.fullmatch(r"([0-9]{4})-([0-9]{1,2})", month.strip())
            if not match:
                raise CommandError(f"--month must look like 2026-05, not {month!r}.")
            try:
                first = report.month_start(int(match[1]), int(match[2]))
            except ValidationError as error:
                raise CommandError(" ".join(error.messages)) from error
        else:
            first = report.previous_month(selectors.today().replace(day=1))
        folder = Path(out) if out else Path(settings.MEDIA_ROOT) / "insights" / "reports"
        if not out:
            folder = folder / f"{first:%Y-%m}"
        folder.mkdir(parents=True, exist_ok=True)
        written = 0
        with translation.override(settings.LANGUAGE_CODE):
            for department in Department.objects.filter(is_active=True).order_by("code"):
                path = folder / f"{department.code}.pdf"
                tmp = path.with_suffix(".pdf.tmp")
                tmp.write_bytes(report.department_month_pdf(department, first))
                tmp.replace(path)  # a reader never sees half a file
                written += 1
                if options.get("verbosity", 1) > 1:
                    self.stdout.write(str(path))
        self.stdout.write(f"{written} report(s) for {first:%Y-%m} in {folder}")
