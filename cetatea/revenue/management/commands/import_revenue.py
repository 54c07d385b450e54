"""Import a CSV file exported by the revenue system (``docs/revenue-import.md``).

    manage.py import_revenue obligations debite-2026.csv --dry-run
    manage.py import_revenue payments incasari.csv --rejects /tmp/respinse.csv

Messages and the reasons in the rejects file are in the interface's default language
(Romanian), like the other commands.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from cetatea.revenue.choices import ImportKind
from cetatea.revenue.importer import (
    DEFAULT_BATCH,
    ENCODINGS,
    RevenueImportError,
    revenue_import,
)


class Command(BaseCommand):
    help = _(
        "Import taxpayers, tax obligations, fines or payments from a CSV file of the revenue "
        "system. Safe to run again: rows already imported with the same content are left "
        "unchanged."
    )

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=ImportKind.values, help=_("What the file holds."))
        parser.add_argument("file", help=_("The CSV file (delimiter , or ;)."))
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help=_("Check every row and write the rejects file, but import nothing."),
        )
        parser.add_argument(
            "--encoding",
            choices=ENCODINGS,
            default="auto",
            help=_("auto (default): UTF-8, else Windows-1250."),
        )
        parser.add_argument(
            "--rejects",
            metavar="PATH",
            help=_("Where to write the rejected rows (default: FILE.rejects.csv)."),
        )
        parser.add_argument(
            "--allow-updates",
            action="store_true",
            help=_("Replace rows already imported whose content has changed."),
        )
        parser.add_argument(
            "--batch",
            type=int,
            default=DEFAULT_BATCH,
            help=_("Rows per transaction (default %(default)s)."),
        )
        parser.add_argument(
            "--no-progress", action="store_true", help=_("Do not show the progress bar.")
        )

    def handle(self, *args, **options):
        if options["batch"] < 1:
            raise CommandError(_("--batch must be at least 1."))
        progress = None if options["no_progress"] else self._progress_bar
        try:
            run = revenue_import(
                kind=options["kind"],
                path=options["file"],
                dry_run=options["dry_run"],
                encoding=options["encoding"],
                rejects_path=options["rejects"],
                allow_updates=options["allow_updates"],
                batch_size=options["batch"],
                progress=progress,
            )
        except RevenueImportError as exc:
            raise CommandError(str(exc)) from exc
        values = {
            "rows": run.rows,
            "created": run.created,
            "updated": run.updated,
            "unchanged": run.unchanged,
            "rejected": run.rejected,
            "seconds": f"{run.seconds:.1f}",
            "encoding": run.encoding,
        }
        summary = (
            _(
                "Read %(rows)s rows: %(created)s created, %(updated)s updated, "
                "%(unchanged)s unchanged, %(rejected)s rejected, in %(seconds)s s "
                "(encoding %(encoding)s)."
            )
            % values
        )
        if run.dry_run:
            summary = _("Dry run, nothing was imported.") + " " + summary
        self.stdout.write(summary, self.style.WARNING if run.rejected else self.style.SUCCESS)
        if run.rejected:
            self.stdout.write(_("Rejected rows and why: %(path)s") % {"path": run.rejects_file})
        else:
            self.stdout.write(
                _("No rejected rows (%(path)s is empty).") % {"path": run.rejects_file}
            )

    def _progress_bar(self, total: int):
        from tqdm import tqdm

        # On a terminal only (tqdm's own check): a cron job's log gets just the summary.
        return tqdm(
            total=total,
            file=self.stderr._out,
            unit=" " + _("rows"),
            unit_scale=True,
            mininterval=0.5,
            disable=None,
        )
