"""Load (or reload) the service catalogue, the city's areas and its streets from JSON files."""

from __future__ import annotations

import json
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.translation import gettext as _

from cetatea.catalog.services import areas_load, catalog_load, streets_load

DATA_DIR = Path(__file__).resolve().parents[2] / "data"
DEFAULT_AREAS = DATA_DIR / "alba_iulia_areas.geojson"
DEFAULT_CATALOG = DATA_DIR / "catalog.json"
DEFAULT_STREETS = DATA_DIR / "alba_iulia_streets.json"


def _read_json(path: Path | str):
    path = Path(path)
    try:
        with path.open(encoding="utf-8") as handle:
            return json.load(handle)
    except OSError as exc:
        raise CommandError(
            _("Cannot read %(path)s: %(error)s") % {"path": path, "error": exc}
        ) from exc
    except json.JSONDecodeError as exc:
        raise CommandError(
            _("%(path)s is not valid JSON: %(error)s") % {"path": path, "error": exc}
        ) from exc


class Command(BaseCommand):
    help = _(
        "Load departments, teams, outside operators, categories, areas and streets from JSON "
        "files, in one transaction. Safe to run again: records are matched by code (streets "
        "by name and locality) and only changed ones are saved."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--areas",
            type=Path,
            default=DEFAULT_AREAS,
            help=_("GeoJSON FeatureCollection of the city's areas (default: Alba Iulia)."),
        )
        parser.add_argument(
            "--catalog",
            type=Path,
            default=DEFAULT_CATALOG,
            help=_("Catalogue JSON file (default: Alba Iulia)."),
        )
        parser.add_argument(
            "--streets",
            type=Path,
            default=DEFAULT_STREETS,
            help=_("Streets JSON file (default: Alba Iulia, approximate coordinates)."),
        )
        parser.add_argument(
            "--skip-areas", action="store_true", help=_("Do not load the areas file.")
        )
        parser.add_argument(
            "--skip-catalog", action="store_true", help=_("Do not load the catalogue file.")
        )
        parser.add_argument(
            "--skip-streets", action="store_true", help=_("Do not load the streets file.")
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help=_("Check the files and report what would change, then roll back."),
        )

    def handle(self, *args, **options):
        areas = None if options["skip_areas"] else _read_json(options["areas"])
        catalog = None if options["skip_catalog"] else _read_json(options["catalog"])
        streets = None if options["skip_streets"] else _read_json(options["streets"])

        summary: dict[str, dict[str, int]] = {}
        try:
            with transaction.atomic():
                # Areas first: catalogue routes may refer to them.
                if areas is not None:
                    summary |= areas_load(feature_collection=areas)
                if catalog is not None:
                    summary |= catalog_load(catalog=catalog)
                # Streets last: each point is checked against the (just loaded) areas.
                if streets is not None:
                    summary |= streets_load(streets=streets)
                if options["dry_run"]:
                    transaction.set_rollback(True)
        except ValidationError as exc:
            raise CommandError(
                _("Nothing was loaded: %(errors)s") % {"errors": "\n".join(exc.messages)}
            ) from exc

        for section, counts in summary.items():
            self.stdout.write(
                _("%(section)s: %(created)d created, %(updated)d updated, %(unchanged)d unchanged")
                % {"section": section, **counts}
            )
        if options["dry_run"]:
            self.stdout.write(self.style.WARNING(_("Dry run: nothing was saved.")))
        else:
            self.stdout.write(self.style.SUCCESS(_("Catalogue loaded.")))
