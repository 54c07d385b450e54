"""Streets: the data file, the idempotent loader and the accessible street search."""

import copy
import json
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError

from cetatea.catalog.geo import area_for_point
from cetatea.catalog.management.commands.load_catalog import DEFAULT_AREAS, DEFAULT_STREETS
from cetatea.catalog.models import Area, Street
from cetatea.catalog.selectors import street_get, street_search
from cetatea.catalog.services import areas_load, streets_load
from cetatea.core.text import fold, name_key

LOCALITIES = {"Alba Iulia", "Bărăbanț", "Micești", "Oarda", "Pâclișa"}
VILLAGE_AREAS = {
    "Bărăbanț": "barabant",
    "Micești": "micesti",
    "Oarda": "oarda",
    "Pâclișa": "paclisa",
}


def _file() -> dict:
    return json.loads(DEFAULT_STREETS.read_text(encoding="utf-8"))


def _snapshot() -> list[tuple]:
    return list(
        Street.objects.order_by("pk").values_list(
            "pk", "name", "name_key", "locality", "latitude", "longitude"
        )
    )


def _names(streets) -> list[str]:
    return [s.name for s in streets]


@pytest.fixture
def areas(db):
    areas_load(feature_collection=json.loads(DEFAULT_AREAS.read_text(encoding="utf-8")))


@pytest.fixture
def loaded(db):
    call_command("load_catalog", stdout=StringIO())


# --- the data file ----------------------------------------------------------------------


def test_streets_file_shape_and_spelling():
    data = _file()
    assert set(data) == {"notes", "streets"}
    assert "approximate" in data["notes"].lower()
    rows = data["streets"]
    assert 120 <= len(rows) <= 250
    text = DEFAULT_STREETS.read_text(encoding="utf-8")
    assert not set(text) & set("şţŞŢ")  # comma-below ș ț, never the cedilla forms
    keys = set()
    for row in rows:
        assert set(row) <= {"name", "locality", "lat", "lon"}, row
        assert row["name"] == " ".join(row["name"].split()), row
        assert row["locality"] in LOCALITIES, row
        for coordinate in (row["lat"], row["lon"]):
            assert isinstance(coordinate, float) and round(coordinate, 5) == coordinate, row
        keys.add((row["name"], row["locality"]))
    assert len(keys) == len(rows)  # no repeated (name, locality)
    names = {row["name"] for row in rows}
    for must in (
        "Calea Moților",
        "Bulevardul Revoluției 1989",
        "Bulevardul 1 Decembrie 1918",
        "Bulevardul Ferdinand I",
        "Strada Mihai Viteazul",
        "Piața Iuliu Maniu",
        "Strada Regimentul V Vânători",
    ):
        assert must in names


@pytest.mark.django_db
def test_every_street_falls_in_an_area_of_its_locality(areas):
    for row in _file()["streets"]:
        area = area_for_point(row["lat"], row["lon"])  # raises outside the city
        if row["locality"] in VILLAGE_AREAS:
            assert area.code == VILLAGE_AREAS[row["locality"]], row
        else:
            assert area.code not in VILLAGE_AREAS.values(), row
    assert area_for_point(46.06850, 23.56950).code == "cetate"  # Strada Mihai Viteazul


# --- loading ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_load_catalog_loads_the_streets():
    out = StringIO()
    call_command("load_catalog", stdout=out)
    rows = _file()["streets"]
    assert Street.objects.count() == len(rows)
    assert f"streets: {len(rows)} created, 0 updated, 0 unchanged" in out.getvalue()
    moti = Street.objects.get(name="Calea Moților", locality="Alba Iulia")
    assert moti.name_key == "calea motilor"
    assert Street.objects.get(name="Strada Zăvoi").locality == "Micești"
    for street in Street.objects.all():
        assert street.name_key == name_key(street.name)


@pytest.mark.django_db
def test_reloading_is_idempotent(loaded):
    before = _snapshot()
    out = StringIO()
    call_command("load_catalog", stdout=out)
    assert _snapshot() == before
    n = len(before)
    assert f"streets: 0 created, 0 updated, {n} unchanged" in out.getvalue()
    assert streets_load(streets=_file()) == {
        "streets": {"created": 0, "updated": 0, "unchanged": n}
    }


@pytest.mark.django_db
def test_reload_updates_a_moved_street_and_adds_new_ones(loaded):
    data = _file()
    data["streets"][0]["lat"] = round(data["streets"][0]["lat"] + 0.0001, 5)
    data["streets"].append({"name": " Strada  Nouă ", "lat": 46.07, "lon": 23.58})
    summary = streets_load(streets=data)["streets"]
    assert summary == {"created": 1, "updated": 1, "unchanged": len(data["streets"]) - 2}
    first = data["streets"][0]
    assert Street.objects.get(name=first["name"]).latitude == first["lat"]
    new = Street.objects.get(name="Strada Nouă")  # trimmed, single-spaced
    assert (new.locality, new.name_key) == ("Alba Iulia", "strada noua")


@pytest.mark.django_db
def test_legacy_cedilla_names_are_stored_with_comma_below(areas):
    streets_load(streets={"streets": [{"name": "Calea Moţilor", "lat": 46.079, "lon": 23.5705}]})
    assert Street.objects.get().name == "Calea Moților"


@pytest.mark.parametrize(
    ("bad_row", "message"),
    [
        ({"name": "Strada București", "lat": 44.43, "lon": 26.10}, "outside the city"),
        ({"lat": 46.07, "lon": 23.58}, "“name” is missing"),
        ({"name": "   ", "lat": 46.07, "lon": 23.58}, "“name” is missing"),
        ({"name": "Strada Ceva", "lat": "abc", "lon": 23.58}, "“lat” must be a number"),
        ({"name": "Strada Ceva", "lat": 46.07}, "“lon” must be a number"),
        ({"name": "Strada Ceva", "lat": True, "lon": 23.58}, "“lat” must be a number"),
        ({"name": "Strada Ceva", "lat": 146.07, "lon": 23.58}, "outside the city"),
        ({"name": "Strada Ceva", "locality": "", "lat": 46.07, "lon": 23.58}, "“locality”"),
        ({"name": "Calea Moților", "lat": 46.07, "lon": 23.58}, "repeats streets["),
        ("Calea Moților", "is not an object"),
    ],
)
@pytest.mark.django_db
def test_a_bad_row_is_rejected_and_nothing_changes(loaded, bad_row, message):
    before = _snapshot()
    data = _file()
    data["streets"][0]["lat"] = round(data["streets"][0]["lat"] + 0.0001, 5)  # a real change
    data["streets"].insert(3, {"name": "Strada Nouă", "lat": 46.07, "lon": 23.58})  # a new row
    data["streets"].append(bad_row)
    with pytest.raises(ValidationError) as error:
        streets_load(streets=data)
    text = " ".join(error.value.messages)
    assert message in text
    assert f"streets[{len(data['streets'])}]" in text  # the message names the row
    assert _snapshot() == before


@pytest.mark.parametrize(
    "streets",
    [[], "x", {"streets": "x"}, {"streets": [], "extra": 1}],
)
@pytest.mark.django_db
def test_a_malformed_file_is_rejected(areas, streets):
    with pytest.raises(ValidationError):
        streets_load(streets=streets)
    assert not Street.objects.exists()


@pytest.mark.django_db
def test_streets_need_the_areas_first(db):
    with pytest.raises(ValidationError, match="areas"):
        streets_load(streets=_file())
    assert not Street.objects.exists()


@pytest.mark.django_db
def test_command_rolls_back_everything_on_a_bad_streets_file(tmp_path):
    data = _file()
    data["streets"].append({"name": "Strada Departe", "lat": 45.0, "lon": 23.0})
    path = tmp_path / "streets.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(CommandError, match="Strada Departe"):
        call_command("load_catalog", "--streets", str(path), stdout=StringIO())
    # Same transaction as the areas and the catalogue: nothing at all was loaded.
    assert not Area.objects.exists()
    assert not Street.objects.exists()


@pytest.mark.django_db
def test_command_options_for_streets(tmp_path):
    call_command("load_catalog", "--skip-streets", stdout=StringIO())
    assert Area.objects.exists() and not Street.objects.exists()

    path = tmp_path / "streets.json"
    path.write_text(
        json.dumps({"streets": [{"name": "Strada Test", "lat": 46.07, "lon": 23.58}]}),
        encoding="utf-8",
    )
    out = StringIO()
    call_command("load_catalog", "--streets", str(path), stdout=out)
    assert list(Street.objects.values_list("name", flat=True)) == ["Strada Test"]
    assert "streets: 1 created" in out.getvalue()

    call_command("load_catalog", "--dry-run", stdout=StringIO())
    assert Street.objects.count() == 1  # the dry run rolled the default file back


# --- search -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    ["motilor", "calea motilor", "Moților", "Moţilor", "CALEA MOȚILOR", "  moti ", "Calea Moţ"],
)
@pytest.mark.django_db
def test_search_finds_calea_motilor(loaded, query):
    assert street_search(query)[0].name == "Calea Moților"


@pytest.mark.django_db
def test_search_examples(loaded):
    assert street_search("str. mihai vit")[0].name == "Strada Mihai Viteazul"
    assert street_search("Str. Mihai Viteazul")[0].name == "Strada Mihai Viteazul"
    assert street_search("1 decembrie")[0].name == "Bulevardul 1 Decembrie 1918"
    assert street_search("b-dul 1 Dec")[0].name == "Bulevardul 1 Decembrie 1918"
    assert street_search("bd. revolutiei")[0].name == "Bulevardul Revoluției 1989"
    assert street_search("revolutiei 1989")[0].name == "Bulevardul Revoluției 1989"
    assert street_search("p-ța iuliu maniu")[0].name == "Piața Iuliu Maniu"
    assert street_search("regimentul v vanatori")[0].name == "Strada Regimentul V Vânători"
    zavoi = street_search("zavoi")
    assert [(s.name, s.locality) for s in zavoi] == [("Strada Zăvoi", "Micești")]


@pytest.mark.django_db
def test_search_mihai_orders_first_word_matches_alphabetically(loaded):
    names = _names(street_search("mihai"))
    assert names[:3] == [
        "Strada Mihai Eminescu",
        "Strada Mihai Viteazul",
        "Strada Mihail Kogălniceanu",
    ]


@pytest.mark.django_db
def test_search_matches_word_prefixes_only(loaded):
    # "otilor" is inside "motilor" but starts no word.
    assert street_search("otilor") == []
    # Every query word must match; type words are ignored, whichever type the street has.
    assert _names(street_search("mihai viteazul eminescu")) == []
    assert _names(street_search("calea viteazul")) == ["Strada Mihai Viteazul"]
    assert _names(street_search("strada mihai viteazul")) == ["Strada Mihai Viteazul"]


@pytest.mark.django_db
def test_search_order_ranks_prefix_then_first_word_then_alphabetical(areas):
    for name in (
        "Strada Ion Creangă",
        "Bulevardul Ionel Brătianu",
        "Strada Nicolae Ion",
        "Piața Ion I. C. Brătianu",
        "Strada Ion I. C. Brătianu",
    ):
        streets_load(streets={"streets": [{"name": name, "lat": 46.07, "lon": 23.58}]})
    assert _names(street_search("ion")) == [
        "Strada Ion Creangă",  # rank 0 and 1 coincide for one word: alphabetical
        "Piața Ion I. C. Brătianu",  # same significant name: by locality, then name key
        "Strada Ion I. C. Brătianu",
        "Bulevardul Ionel Brătianu",
        "Strada Nicolae Ion",  # "ion" is not the first word
    ]
    # The query words in order at the start of the name beat a first-word-only match.
    assert _names(street_search("ion bratianu")) == [
        "Bulevardul Ionel Brătianu",
        "Piața Ion I. C. Brătianu",
        "Strada Ion I. C. Brătianu",
    ]
    # No name starts with "bratianu": all in one group, alphabetical.
    assert _names(street_search("bratianu ion")) == [
        "Piața Ion I. C. Brătianu",
        "Strada Ion I. C. Brătianu",
        "Bulevardul Ionel Brătianu",
    ]


@pytest.mark.django_db
def test_search_type_only_query_is_matched_as_plain_words(loaded):
    assert street_search("strada") == []
    assert street_search("calea") == []
    albac = _names(street_search("al", limit=50))
    assert "Strada Albac" in albac and "Strada Alunului" in albac


@pytest.mark.django_db
def test_search_respects_limit(loaded):
    assert len(street_search("s")) == 10
    assert len(street_search("s", limit=3)) == 3
    assert street_search("s", limit=3) == street_search("s")[:3]
    assert street_search("s", limit=0) == []
    assert len(street_search("a", limit=1000)) > 10


@pytest.mark.parametrize("query", ["", "   ", ".,;-", "—", None])
@pytest.mark.django_db
def test_search_empty_query_gives_nothing(loaded, query, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert street_search(query) == []


@pytest.mark.django_db
def test_search_is_one_query_and_sees_renames_at_once(loaded, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert street_search("motilor")
    street = Street.objects.get(name="Calea Moților")
    street.name, street.name_key = "Calea Nouă", name_key("Calea Nouă")
    street.save()
    assert street_search("motilor") == []
    assert _names(street_search("noua")) == ["Calea Nouă"]


@pytest.mark.django_db
def test_search_does_not_depend_on_query_spelling(loaded):
    variants = ["Strada Gheorghe Șincai", "strada gheorghe sincai", "STR. GHEORGHE ŞINCAI"]
    results = {tuple(_names(street_search(v))) for v in variants}
    assert results == {("Strada Gheorghe Șincai",)}
    assert fold("Şincai") == fold("Șincai") == "sincai"


@pytest.mark.django_db
def test_street_get(loaded):
    street = Street.objects.get(name="Calea Moților")
    assert street_get(street.pk) == street
    assert street_get(str(street.pk)) == street
    assert street_get(10**9) is None
    assert street_get("abc") is None
    assert street_get(None) is None


@pytest.mark.django_db
def test_loader_does_not_change_its_input(areas):
    data = _file()
    data["streets"][0]["name"] = "  Strada  Ţesătorilor "
    original = copy.deepcopy(data)
    streets_load(streets=data)
    assert data == original
