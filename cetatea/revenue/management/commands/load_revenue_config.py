"""Load the dated configuration of the balance (``revenue/data/config.toml``)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from cetatea.revenue.config import DEFAULT_CONFIG, read_config, revenue_config_load


class Command(BaseCommand):
    help = _(
        "Create the late-payment charge rates, fiscal years and early-payment bonuses of a "
        "TOML file that are missing. Rows already there are never changed (an administrator "
        "may have corrected them in the admin); those that differ from the file are listed."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--file",
            default=str(DEFAULT_CONFIG),
            help=_("TOML file (default: the demo configuration of Alba Iulia)."),
        )

    def handle(self, *args, **options):
        try:
            report = revenue_config_load(data=read_config(options["file"]))
        except ValidationError as exc:
            raise CommandError("\n".join(exc.messages)) from exc
        for name, created in report.created.items():
            line = _("%(name)s: %(created)s created, %(unchanged)s already there") % {
                "name": name,
                "created": created,
                "unchanged": report.unchanged[name],
            }
            if report.kept[name]:
                line += ", " + _("%(n)s differ from the file and were kept") % {
                    "n": len(report.kept[name])
                }
            self.stdout.write(line)
            for row in report.kept[name]:
                self.stdout.write("  " + _("kept: %(row)s") % {"row": row})
