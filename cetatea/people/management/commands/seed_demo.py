"""Load realistic Alba Iulia demo data, once.

``manage.py seed_demo`` loads the catalogue, one staff account per role, about 300
citizens and organisations, about 800 cases from every channel and category spread over
the last two years, and about 1,500 further interactions. Everything is written through
the same service functions the application uses, inside one transaction, with a fixed
random seed. If the demo operator account already exists, nothing is changed.

The name, street and text lists below are shared with ``seed_scale``.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import time
import unicodedata
from pathlib import Path

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from stdnum.ro import cnp as stdnum_cnp
from stdnum.ro import cui as stdnum_cui

from cetatea.core import roles

DEFAULT_PASSWORD = "cetatea-demo-2026"  # noqa: S105  (documented demo password)
DEMO_MARKER_USERNAME = "operator"
# The demo Open311 client's key (documented demo value; real keys come from the admin).
DEMO_OPEN311_KEY = "cetatea-demo-open311-2026"  # noqa: S105
SITE_URL = "http://127.0.0.1:8000/"
SEED = 2026

# --- Names ------------------------------------------------------------------------------
# fmt: off
# (name, weight). Frequent Romanian and Transylvanian surnames; both the comma-below
# (ș ț) and the legacy cedilla (ş ţ) spellings occur, as in real registers.
LAST_NAMES: list[tuple[str, int]] = [
    ("Popescu", 30), ("Pop", 40), ("Popa", 20), ("Moldovan", 25), ("Mureșan", 20),
    ("Ionescu", 10), ("Radu", 10), ("Dumitru", 8), ("Stan", 8), ("Stoica", 8),
    ("Gheorghe", 8), ("Matei", 6), ("Ciobanu", 6), ("Rusu", 10), ("Munteanu", 10),
    ("Constantin", 6), ("Mihai", 6), ("Oprea", 8), ("Bucur", 6), ("Bogdan", 6),
    ("Toma", 8), ("Lazăr", 8), ("Suciu", 10), ("Crișan", 10), ("Man", 8),
    ("Cîmpean", 6), ("Câmpean", 4), ("Hațegan", 6), ("Avram", 8), ("Sârbu", 6),
    ("Bârsan", 6), ("Nistor", 6), ("Șerban", 8), ("Şerban", 3), ("Țîrlea", 3),
    ("Oltean", 8), ("Păcurar", 6), ("Bălan", 6), ("Vlad", 6), ("Florea", 6),
    ("Dragomir", 5), ("Ștefănescu", 6), ("Ştefănescu", 4), ("Todea", 6), ("Drăgan", 5),
    ("Bota", 6), ("Pârvu", 4), ("Neagu", 4), ("Tătar", 4), ("Muntean", 8),
    ("Roman", 5), ("Giurgiu", 4), ("Costea", 4), ("Ardelean", 10), ("Sabău", 6),
    ("Rus", 8), ("Comșa", 4), ("Bîrlea", 3), ("Moga", 6), ("Jurj", 5),
    ("Țăran", 4), ("Ţăran", 2), ("Vințan", 3), ("Morar", 6), ("Iancu", 4),
    ("Coman", 5), ("Marin", 5), ("Tudor", 5), ("Dinu", 4), ("Enache", 4),
    ("Barbu", 5), ("Lupu", 4), ("Tănase", 4), ("Stănescu", 4), ("Vasile", 5),
    ("Ilie", 4), ("Moraru", 4), ("Achim", 3), ("Sima", 4), ("Anghel", 4),
    ("Dobre", 4), ("Neamțu", 4), ("Grigore", 4), ("Popovici", 3), ("Kovács", 3),
    ("Nagy", 3), ("Szabó", 3), ("Bărbuleț", 2), ("Zăhan", 2), ("Dobra", 3),
]
MALE_FIRST_NAMES: list[tuple[str, int]] = [
    ("Ion", 12), ("Ioan", 14), ("Gheorghe", 10), ("Vasile", 10), ("Nicolae", 8),
    ("Mihai", 10), ("Andrei", 10), ("Alexandru", 10), ("Constantin", 6), ("Dumitru", 6),
    ("Florin", 6), ("Adrian", 6), ("Ștefan", 6), ("Ştefan", 2), ("Cristian", 6),
    ("Răzvan", 5), ("Bogdan", 5), ("Marius", 6), ("Ovidiu", 4), ("Sorin", 4),
    ("Cătălin", 4), ("Horațiu", 3), ("Traian", 3), ("Petru", 4), ("Tudor", 4),
    ("Radu", 4), ("Ionuț", 5), ("Daniel", 5), ("Gabriel", 5), ("Lucian", 4),
    ("Claudiu", 4), ("Liviu", 4), ("Aurel", 4), ("Emil", 3), ("Dorin", 4),
    ("Valentin", 3), ("Iulian", 3), ("Teodor", 3), ("Matei", 3), ("David", 3),
    ("Viorel", 4), ("Ioan Mihai", 2), ("Nicușor", 2),
]
FEMALE_FIRST_NAMES: list[tuple[str, int]] = [
    ("Maria", 14), ("Elena", 10), ("Ioana", 10), ("Ana", 8), ("Mariana", 8),
    ("Georgeta", 4), ("Cristina", 6), ("Andreea", 8), ("Alexandra", 6), ("Mihaela", 6),
    ("Daniela", 6), ("Ștefania", 4), ("Ştefania", 1), ("Lăcrămioara", 2), ("Cătălina", 4),
    ("Rodica", 5), ("Gabriela", 5), ("Simona", 5), ("Adriana", 5), ("Florica", 4),
    ("Viorica", 5), ("Ileana", 4), ("Doina", 4), ("Raluca", 4), ("Oana", 5),
    ("Anca", 4), ("Ramona", 4), ("Bianca", 4), ("Teodora", 3), ("Iulia", 4),
    ("Irina", 4), ("Ana-Maria", 4), ("Larisa", 3), ("Alina", 5), ("Corina", 3),
    ("Delia", 3), ("Nicoleta", 4), ("Aurelia", 2), ("Floarea", 2), ("Sânziana", 1),
    ("Ilinca", 2), ("Ecaterina", 2), ("Antonia", 2), ("Denisa", 2), ("Țuca", 1),
]
# fmt: on
ORGANISATION_NAMES = [
    "Apulum Construct SRL",
    "Asociația de Proprietari Bloc A4 Cetate",
    "Asociația de Proprietari Calea Moților 85",
    "Transilvania Trans SRL",
    "Cabinet Medical Dr. Mureșan Ioana",
    "Școala Gimnazială „Avram Iancu”",
    "Parohia Ortodoxă Alba Iulia Centru",
    "Cetatea Alba Carolina Tur SRL",
    "Brutăria Țărănească Oarda SRL",
    "Asociația Locatarilor Bulevardul Transilvania 12",
    "Ardealul Invest SA",
    "Frații Ştefănescu Service Auto SRL",
]

# --- Places -------------------------------------------------------------------------------
STREETS = [
    "Calea Moților",
    "Bulevardul Transilvania",
    "Strada Mihai Viteazul",
    "Bulevardul Revoluției 1989",
    "Strada Frederic Mistral",
    "Strada Tudor Vladimirescu",
    "Strada Cloșca",
    "Strada Horea",
    "Strada Vasile Goldiș",
    "Bulevardul Ferdinand I",
    "Bulevardul 1 Decembrie 1918",
    "Bulevardul Încoronării",
    "Strada Nicolae Iorga",
    "Strada Octavian Goga",
    "Strada Arnsberg",
    "Strada Primăverii",
    "Strada Decebal",
    "Strada Gemina",
    "Strada Mihai Eminescu",
    "Strada Ion Creangă",
]
# City bounding box used for random map points (inside the built-up area).
LAT_RANGE = (46.04, 46.10)
LON_RANGE = (23.54, 23.61)
MOBILE_PREFIXES = range(720, 780)  # 072x-077x: valid Romanian mobile ranges
EMAIL_DOMAINS = ["example.com", "example.org", "example.net"]  # reserved: never delivered

# fmt: off
# --- Case texts (title, description); {street} and {nr} are filled in ---------------------
CASE_TEXTS: dict[str, list[tuple[str, str]]] = {
    "ROAD_POTHOLE": [
        ("Groapă mare în carosabil", "Groapă adâncă pe {street}, în dreptul nr. {nr}. "
         "Mașinile o ocolesc pe contrasens."),
        ("Gropi după iarnă", "Mai multe gropi pe {street} între nr. {nr} și intersecție."),
    ],
    "ROAD_SIDEWALK": [
        ("Trotuar surpat", "Dalele de pe trotuar s-au ridicat pe {street} nr. {nr}; "
         "o vecină în vârstă a căzut săptămâna trecută."),
        ("Bordură ruptă", "Bordura este ruptă la trecerea de pietoni de pe {street}."),
    ],
    "ROAD_MANHOLE": [
        ("Capac de canal lipsă", "Lipsește capacul de canal pe {street} nr. {nr}, "
         "pe banda de circulație. Pericol de accident!"),
    ],
    "ROAD_SNOW": [
        ("Polei pe trotuar", "Trotuarul de pe {street} nu a fost curățat și e polei."),
        ("Stradă nedeszăpezită", "{street} nu a fost deszăpezită de ieri."),
    ],
    "LIGHT_OUT": [
        ("Stâlp de iluminat nefuncțional", "Becul de pe stâlpul din fața nr. {nr}, "
         "{street}, nu mai funcționează de o săptămână."),
        ("Stradă în întuneric", "Pe {street} sunt trei stâlpi stinși la rând."),
    ],
    "LIGHT_DAY": [("Iluminat aprins ziua", "Iluminatul public de pe {street} "
                   "este aprins și ziua, de câteva zile.")],
    "LIGHT_DAMAGE": [("Cablu căzut", "Un cablu de la stâlpul de iluminat atârnă "
                      "până la pământ pe {street} nr. {nr}.")],
    "TRAF_SIGNAL": [("Semafor defect", "Semaforul de la intersecția {street} "
                     "cu Bulevardul Transilvania arată intermitent galben.")],
    "TRAF_SIGN": [
        ("Indicator căzut", "Indicatorul STOP de pe {street} este căzut."),
        ("Marcaje șterse", "Trecerea de pietoni de pe {street} nr. {nr} nu se mai vede."),
    ],
    "PARK_ILLEGAL": [("Mașină parcată pe trotuar", "Un autoturism blochează trotuarul "
                      "pe {street} nr. {nr}; cu căruciorul nu se poate trece.")],
    "VEH_ABANDONED": [("Autoturism abandonat", "Un autoturism fără numere stă de luni "
                       "de zile în parcarea de pe {street} nr. {nr}.")],
    "WASTE_UNCOLLECTED": [
        ("Gunoi neridicat", "Containerele de pe {street} nr. {nr} nu au fost golite "
         "de o săptămână."),
        ("Containere pline", "Containerele de reciclabile de pe {street} sunt pline."),
    ],
    "WASTE_ILLEGAL": [("Deșeuri aruncate ilegal", "Cineva a descărcat moloz și "
                       "mobilier vechi la capătul străzii {street}.")],
    "STREET_CLEAN": [("Stradă murdară", "Pe {street} nu s-a măturat de mult; "
                      "frunze și gunoaie pe rigole.")],
    "GREEN_TREE": [
        ("Copac uscat periculos", "Un copac uscat stă să cadă peste parcarea de pe "
         "{street} nr. {nr}."),
        ("Crengi rupte după furtună", "Crengi mari rupte pe trotuarul de pe {street}."),
    ],
    "GREEN_MAINT": [("Iarbă necosită", "Spațiul verde dintre blocurile de pe {street} "
                     "nu a fost cosit; iarba e până la genunchi.")],
    "PLAYGROUND": [("Leagăn rupt", "Un leagăn de la locul de joacă de pe {street} "
                    "are lanțul rupt.")],
    "ANIMAL_STRAY": [("Câini fără stăpân", "O haită de câini agresivi în zona "
                      "{street} nr. {nr}; copiii merg la școală pe acolo.")],
    "ANIMAL_DEAD": [("Animal mort", "Un câine mort pe marginea drumului, {street}.")],
    "PEST": [("Șobolani", "S-au înmulțit șobolanii lângă ghenele de pe {street}.")],
    "WATER_LEAK": [("Țeavă spartă", "Curge apă din asfalt pe {street} nr. {nr}."),
                   ("Canal înfundat", "Canalizarea e înfundată pe {street} și miroase.")],
    "NOISE": [("Zgomot noaptea", "Muzică foarte tare după ora 23 la un bar de pe "
               "{street}.")],
    "TRADE_ILLEGAL": [("Comerț ambulant", "Vânzători ambulanți pe trotuarul de pe "
                       "{street}, lângă piață.")],
    "CONSTR_ILLEGAL": [("Noroi de la șantier", "Camioanele de la șantierul de pe "
                        "{street} lasă noroi pe carosabil.")],
    "POSTER_GRAFFITI": [("Graffiti pe fațadă", "Graffiti pe clădirea de pe {street} "
                         "nr. {nr}.")],
    "TRANSPORT": [("Stație fără adăpost", "Stația de autobuz de pe {street} nu are "
                   "copertină și nici orar afișat.")],
    "TAX_QUERY": [
        ("Întrebare impozit clădire", "Solicit recalcularea impozitului pe clădire "
         "pentru apartamentul de pe {street} nr. {nr}."),
        ("Certificat fiscal", "Am nevoie de un certificat de atestare fiscală pentru "
         "vânzarea unui apartament."),
        ("Scutire impozit", "Sunt pensionar cu handicap; solicit scutirea de impozit."),
    ],
    "SOCIAL": [
        ("Ajutor de încălzire", "Solicit ajutor pentru încălzirea locuinței în această "
         "iarnă."),
        ("Îngrijire la domiciliu", "Mama mea, în vârstă de 87 de ani, are nevoie de "
         "îngrijire la domiciliu."),
    ],
    "URBANISM": [("Certificat de urbanism", "Solicit informații pentru certificatul de "
                  "urbanism pentru o extindere pe {street} nr. {nr}.")],
    "INFO_544": [("Cerere Legea 544/2001", "Vă rog să îmi comunicați contractele de "
                  "reparații străzi încheiate în ultimul an și valoarea lor.")],
    "INTEGRITY": [("Comportament funcționar", "Reclam comportamentul unui funcționar "
                   "de la ghișeu, care mi-a cerut bani pentru grăbirea dosarului.")],
    "OTHER": [("Sugestie", "Propun montarea de bănci pe {street}."),
              ("Mulțumiri", "Mulțumesc echipei care a reparat strada {street}.")],
}
PUBLIC_REPLIES = [
    "Vă mulțumim pentru sesizare. Am transmis-o echipei de intervenție.",
    "Problema a fost remediată. Vă mulțumim că ne-ați anunțat!",
    "Lucrarea a fost programată pentru săptămâna viitoare.",
    "Am verificat în teren și am constatat situația semnalată.",
    "Sesizarea a fost transmisă operatorului responsabil, conform legii.",
    "Vă rugăm să ne trimiteți o fotografie sau mai multe detalii despre locație.",
]
INTERNAL_NOTES = [
    "Verificat în teren, se confirmă.",
    "Necesită materiale; estimat săptămâna viitoare.",
    "Am sunat petentul, nu a răspuns. Revin mâine.",
    "Posibil duplicat, aceeași zonă ca sesizarea de ieri.",
    "Discutat cu șeful de echipă, intră în planificarea lunară.",
    "Zonă în garanție la constructor; am trimis notificare.",
]
CALL_SUMMARIES = [
    "Întreabă cât are de plată la impozitul pe clădire.",
    "Întreabă programul casieriei de la Direcția Venituri.",
    "Solicită informații despre parcarea de reședință.",
    "Reclamă zgomot de la un șantier; îndrumat să depună sesizare.",
    "Întreabă ce acte îi trebuie pentru ajutorul de încălzire.",
    "Informații despre colectarea deșeurilor voluminoase.",
    "Întreabă când se repară drumul pe strada sa.",
]
ROBOT_SUMMARIES = [
    "Robot: sold impozite și taxe interogat (identificat cu CNP și PIN).",
    "Robot: amenzi neplătite interogate.",
    "Robot: stadiul unei petiții interogat.",
    "Robot: apel abandonat la meniul principal.",
    "Robot: transfer către operator.",
]
EMAIL_IN_SUMMARIES = [
    "E-mail: solicită copie după decizia de impunere.",
    "E-mail: întreabă de stadiul cererii depuse luna trecută.",
    "E-mail: trimite dovada plății.",
]
EMAIL_OUT_SUMMARIES = [
    "Răspuns trimis prin e-mail cu informațiile solicitate.",
    "Trimis formularul de cerere completat parțial.",
]
COUNTER_SUMMARIES = [
    "Ghișeu: depunere declarație fiscală clădire.",
    "Ghișeu: solicitare certificat de atestare fiscală.",
    "Ghișeu: plată impozit cu cardul.",
    "Ghișeu: depunere acte pentru ajutor social.",
    "Ghișeu: ridicare răspuns la petiție.",
]

# Categories reported at a place on the map (the rest are desk matters).
DESK_CATEGORIES = {"TAX_QUERY", "SOCIAL", "URBANISM", "INFO_544", "INTEGRITY", "OTHER"}
# How often each category appears (others: weight 3).
CATEGORY_WEIGHTS = {
    "ROAD_POTHOLE": 14, "WASTE_UNCOLLECTED": 12, "LIGHT_OUT": 12, "PARK_ILLEGAL": 8,
    "ROAD_SIDEWALK": 7, "GREEN_TREE": 6, "ANIMAL_STRAY": 6, "TAX_QUERY": 10, "SOCIAL": 5,
    "NOISE": 5, "STREET_CLEAN": 5, "WATER_LEAK": 4, "INFO_544": 3, "INTEGRITY": 1,
}
PLACE_CHANNELS = {"map": 35, "open311": 12, "web": 10, "phone": 25, "email": 8, "sms": 5,
                  "counter": 3, "letter": 2}
DESK_CHANNELS = {"counter": 30, "letter": 12, "email": 20, "web": 15, "phone": 15}
# A natural category for each channel (used to make sure every channel occurs).
CHANNEL_CATEGORY = {"robot": "TAX_QUERY", "letter": "SOCIAL", "counter": "TAX_QUERY",
                    "sms": "LIGHT_OUT", "open311": "ROAD_POTHOLE", "map": "WASTE_UNCOLLECTED",
                    "web": "GREEN_TREE", "email": "INFO_544", "phone": "ANIMAL_STRAY"}


# fmt: on


def ascii_fold(text: str) -> str:
    """``Ștefănescu`` -> ``stefanescu`` (for e-mail addresses)."""
    text = unicodedata.normalize("NFKD", text.casefold())
    text = "".join(c for c in text if not unicodedata.combining(c))
    return "".join(c if c.isalnum() else "." for c in text).strip(".")


def weighted(rng: random.Random, items: list[tuple[str, int]] | dict[str, int]) -> str:
    pairs = list(items.items()) if isinstance(items, dict) else items
    return rng.choices([p[0] for p in pairs], weights=[p[1] for p in pairs])[0]


def random_point(rng: random.Random) -> tuple[float, float]:
    """A point in the city box, denser around the centre (Cetate, Centru, Ampoi)."""
    if rng.random() < 0.65:
        lat = min(max(rng.gauss(46.068, 0.011), LAT_RANGE[0]), LAT_RANGE[1])
        lon = min(max(rng.gauss(23.575, 0.014), LON_RANGE[0]), LON_RANGE[1])
    else:
        lat, lon = rng.uniform(*LAT_RANGE), rng.uniform(*LON_RANGE)
    return round(lat, 6), round(lon, 6)


def channel_for(rng: random.Random, code: str) -> str:
    """A plausible channel for a case of category ``code``."""
    if code in DESK_CATEGORIES:
        weights = dict(DESK_CHANNELS)
        if code in ("TAX_QUERY", "OTHER"):
            weights["robot"] = 10
        return weighted(rng, weights)
    return weighted(rng, PLACE_CHANNELS)


def handler_for(channel: str) -> str:
    if channel == "robot":
        return "robot"
    if channel in ("map", "web", "open311", "sms"):
        return "self"
    return "staff"


def make_cnp(rng: random.Random, born: dt.date, male: bool, county: str) -> str:
    sex = ("1" if male else "2") if born.year < 2000 else ("5" if male else "6")
    body = f"{sex}{born:%y%m%d}{county}{rng.randint(1, 999):03d}"
    return body + stdnum_cnp.calc_check_digit(body)


def make_cui(base: int) -> str:
    body = str(base)
    return body + stdnum_cui.calc_check_digit(body)


def national_phone(rng: random.Random) -> str:
    """A mobile number written as operators type it: ``0722 123 456``."""
    prefix = rng.choice(MOBILE_PREFIXES)
    rest = rng.randrange(1_000_000)
    return f"0{prefix} {rest // 1000:03d} {rest % 1000:03d}"


def landline(rng: random.Random) -> str:
    return f"0258 {rng.randint(800, 899)} {rng.randrange(1000):03d}"


# --- Demo staff -----------------------------------------------------------------------------
# username, role group, first name, last name, department code (None: no profile), team
DEMO_USERS = [
    ("operator", roles.OPERATOR, "Andreea", "Mureșan", "relatii-publicul", "dispecerat"),
    ("clerk", roles.REGISTRY_CLERK, "Rodica", "Oltean", "relatii-publicul", "registratura"),
    ("staff", roles.DEPARTMENT_STAFF, "Ștefan", "Bota", "drumuri-utilitati", None),
    ("crew", roles.FIELD_CREW, "Vasile", "Todea", "drumuri-utilitati", "echipa-drumuri"),
    ("manager", roles.MANAGER, "Cristina", "Suciu", "cabinet-primar", None),
    ("revenue", roles.REVENUE_OFFICER, "Ioana", "Câmpean", "venituri", None),
    ("admin", roles.ADMINISTRATOR, "Horațiu", "Bârsan", None, None),
    # The mayor's office: the whole city's management overview (/staff/insights/).
    ("cabinet", roles.LEADERSHIP, "Mihaela", "Rusu", "cabinet-primar", None),
    # The data protection officer: audit log, data subject export and erasure.
    ("dpo", roles.DATA_PROTECTION, "Adrian", "Moldovan", None, None),
]


def demo_password() -> str:
    return os.environ.get("CETATEA_DEMO_PASSWORD") or DEFAULT_PASSWORD


class Command(BaseCommand):
    help = "Load Alba Iulia demo data (staff accounts, citizens, cases, interactions) once."

    def add_arguments(self, parser):
        parser.add_argument("--persons", type=int, default=300)
        parser.add_argument("--cases", type=int, default=800)
        parser.add_argument("--interactions", type=int, default=1500)
        parser.add_argument("--seed", type=int, default=SEED)

    def handle(self, *args, **options):
        User = get_user_model()
        if User.objects.filter(username=DEMO_MARKER_USERNAME).exists():
            self.stdout.write("demo data already loaded")
            call_command("load_registry", stdout=self.stdout, stderr=self.stderr)
            self._load_revenue()
            self._ensure_open311_client()
            # Idempotent: adds demo accounts of roles added since, fills the intranet of a
            # demo loaded before it existed, and keeps the published roster on this week.
            with transaction.atomic():
                roles.sync_roles()
                self.users = self._create_users()
                self._seed_intranet()
            self._refresh_insights()
            self._print_logins()
            return
        started = time.perf_counter()
        call_command("load_catalog", stdout=self.stdout, stderr=self.stderr)
        call_command("load_registry", stdout=self.stdout, stderr=self.stderr)
        self.rng = random.Random(options["seed"])
        self.now = timezone.now()
        self.start = self.now - dt.timedelta(days=730)
        with transaction.atomic():
            # Roles follow core.roles even if post_migrate has not run in this process.
            roles.sync_roles()
            self.users = self._create_users()
            t = time.perf_counter()
            persons = self._create_persons(options["persons"])
            self.stdout.write(f"persons: {len(persons)} ({time.perf_counter() - t:.1f} s)")
            t = time.perf_counter()
            cases = self._create_cases(persons, options["cases"])
            self.stdout.write(f"cases: {len(cases)} ({time.perf_counter() - t:.1f} s)")
            t = time.perf_counter()
            changes = self._advance_cases(cases)
            self.stdout.write(f"case updates: {changes} ({time.perf_counter() - t:.1f} s)")
            t = time.perf_counter()
            count = self._log_interactions(persons, cases, options["interactions"])
            self.stdout.write(f"interactions: {count} ({time.perf_counter() - t:.1f} s)")
            t = time.perf_counter()
            self._seed_intranet()
            self.stdout.write(f"intranet: ({time.perf_counter() - t:.1f} s)")
        self._load_revenue()
        self.stdout.write(
            self.style.SUCCESS(f"Demo data loaded in {time.perf_counter() - started:.1f} s.")
        )
        self._ensure_open311_client()
        self._refresh_insights()
        self._print_logins()

    def _refresh_insights(self) -> None:
        """Registry and phone robot history (once), then the management overview's counts
        (incremental; a rebuild on the first run)."""
        from cetatea.registry.demo import seed_registry_demo
        from cetatea.telephony.robot.demo import seed_robot_demo

        t = time.perf_counter()
        with transaction.atomic():
            entries = seed_registry_demo(self.users)
            calls = seed_robot_demo()
        if entries or calls:
            seconds = time.perf_counter() - t
            self.stdout.write(
                f"registry entries: {entries}, robot calls: {calls} ({seconds:.1f} s)"
            )
        call_command("insights_refresh", "--quiet", stdout=self.stdout, stderr=self.stderr)

    def _seed_intranet(self) -> None:
        """Announcements, rosters, task boards, documents and channels for the demo staff."""
        from cetatea.intranet.chat.demo import seed_chat_demo
        from cetatea.intranet.demo import seed_intranet_demo
        from cetatea.intranet.documents.demo import seed_documents_demo
        from cetatea.intranet.schedules.demo import seed_schedules_demo
        from cetatea.intranet.tasks.demo import seed_tasks_demo

        seed_intranet_demo(self.users)
        seed_schedules_demo(self.users)
        seed_tasks_demo(self.users)
        seed_documents_demo(self.users)
        seed_chat_demo(self.users)

    # --- output -------------------------------------------------------------------------------

    def _print_logins(self) -> None:
        password = demo_password()
        rows = [("username", "role", "password")] + [
            (username, str(roles.ROLE_LABELS[role]), password)
            for username, role, *_rest in DEMO_USERS
        ]
        widths = [max(len(r[i]) for r in rows) for i in range(3)]
        line = "+" + "+".join("-" * (w + 2) for w in widths) + "+"
        self.stdout.write(line)
        for i, row in enumerate(rows):
            self.stdout.write(
                "| " + " | ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)) + " |"
            )
            if i == 0:
                self.stdout.write(line)
        self.stdout.write(line)
        self.stdout.write(f"Open {SITE_URL}")
        self.stdout.write(
            f"Open311 (apps, FixMyStreet): {SITE_URL}open311/v2/ demo api_key {DEMO_OPEN311_KEY}"
        )

    def _load_revenue(self) -> None:
        """The balance's dated rates and what the demo citizens owe, imported as the revenue
        system exports it (``revenue/data/demo``). Safe to repeat: rows already imported
        are left unchanged. The accounts find the demo persons by CNP."""
        from django.conf import settings

        from cetatea.revenue.importer import DEMO_DIR

        call_command("load_revenue_config", stdout=self.stdout, stderr=self.stderr)
        for kind in ("taxpayers", "obligations", "fines", "payments"):
            call_command(
                "import_revenue",
                kind,
                str(DEMO_DIR / f"{kind}.csv"),
                "--no-progress",
                "--rejects",
                str(Path(settings.VAR_DIR) / f"demo-revenue-{kind}.rejects.csv"),
                stdout=self.stdout,
                stderr=self.stderr,
            )

    def _ensure_open311_client(self) -> None:
        from cetatea.open311.models import ApiClient, hash_key

        ApiClient.objects.get_or_create(
            key_hash=hash_key(DEMO_OPEN311_KEY),
            defaults={"name": "Aplicația demo", "key_prefix": DEMO_OPEN311_KEY[:8]},
        )

    # --- staff ----------------------------------------------------------------------------------

    def _create_users(self) -> dict:
        from cetatea.catalog.models import Category, Department, StaffProfile, Team

        User = get_user_model()
        hashed = make_password(demo_password())  # one hash for all: PBKDF2 is slow on purpose
        roads = Department.objects.filter(code="drumuri-utilitati").first()
        if roads is None:  # another catalogue: the department that fixes potholes
            pothole = Category.objects.filter(code="ROAD_POTHOLE").first()
            roads = pothole.department if pothole else Department.objects.first()
        users = {}
        for username, role, first, last, dept_code, team_code in DEMO_USERS:
            existing = User.objects.filter(username=username).first()
            if existing is not None:  # a demo loaded earlier: keep the account as it is
                users[username] = existing
                continue
            user = User.objects.create(
                username=username,
                first_name=first,
                last_name=last,
                email=f"{username}@cetatea.example",
                password=hashed,
                is_staff=role == roles.ADMINISTRATOR,
                is_superuser=role == roles.ADMINISTRATOR,
            )
            user.groups.add(Group.objects.get(name=role))
            if role in (roles.DEPARTMENT_STAFF, roles.FIELD_CREW):
                department = roads
            else:
                department = Department.objects.filter(code=dept_code).first()
            if department is not None or role != roles.ADMINISTRATOR:
                StaffProfile.objects.create(
                    user=user,
                    department=department,
                    phone_extension=str(200 + len(users)) if role == roles.OPERATOR else "",
                )
            if team_code:
                team = Team.objects.filter(code=team_code).first()
                if team is not None:
                    team.members.add(user)
            users[username] = user
        return users

    # --- persons --------------------------------------------------------------------------------

    def _create_persons(self, count: int) -> list:
        from cetatea.people.models import Person, PersonEvent
        from cetatea.people.services import AddressData, person_create

        rng = self.rng
        persons = []
        n_orgs = min(len(ORGANISATION_NAMES), max(1, count // 30)) if count else 0
        used_cnps: set[str] = set()
        for _i in range(count - n_orgs):
            male = rng.random() < 0.48
            first = weighted(rng, MALE_FIRST_NAMES if male else FEMALE_FIRST_NAMES)
            last = weighted(rng, LAST_NAMES)
            born = dt.date(1940, 1, 1) + dt.timedelta(days=rng.randrange(366 * 66 + 300))
            county = "01" if rng.random() < 0.85 else f"{rng.randint(2, 46):02d}"
            cnp = make_cnp(rng, born, male, county)
            while cnp in used_cnps:
                cnp = make_cnp(rng, born, male, county)
            used_cnps.add(cnp)
            phones = [national_phone(rng)] if rng.random() < 0.92 else []
            if rng.random() < 0.15:
                phones.append(landline(rng))
            emails = []
            if rng.random() < 0.35:
                emails.append(
                    f"{ascii_fold(first)}.{ascii_fold(last)}{rng.randint(1, 99)}"
                    f"@{rng.choice(EMAIL_DOMAINS)}"
                )
            address = AddressData(
                street=rng.choice(STREETS),
                number=str(rng.randint(1, 120)),
                details=(
                    f"bl. {rng.choice('ABCDEFGHMPR')}{rng.randint(1, 30)}, "
                    f"sc. {rng.choice('ABCD')}, ap. {rng.randint(1, 60)}"
                    if rng.random() < 0.6
                    else ""
                ),
            )
            persons.append(
                person_create(
                    last_name=last,
                    first_name=first,
                    national_id=cnp if rng.random() < 0.9 else "",
                    phones=phones,
                    emails=emails,
                    addresses=[address],
                    actor=self.users["clerk"],
                )
            )
        for name in rng.sample(ORGANISATION_NAMES, n_orgs):
            persons.append(
                person_create(
                    kind="organisation",
                    last_name=name,
                    national_id=make_cui(rng.randint(1_000_000, 49_999_999)),
                    phones=[landline(rng)],
                    emails=[f"contact@{ascii_fold(name.split()[0])}.example.com"],
                    addresses=[
                        AddressData(
                            street=rng.choice(STREETS),
                            number=str(rng.randint(1, 120)),
                            kind="seat",
                        )
                    ],
                    actor=self.users["clerk"],
                )
            )
        # The records were "migrated" before the two years of history that follows.
        ids = [p.pk for p in persons]
        migrated = self.start - dt.timedelta(days=1)
        Person.objects.filter(pk__in=ids).update(created_at=migrated)
        PersonEvent.objects.filter(person_id__in=ids).update(created_at=migrated)
        return persons

    # --- cases ----------------------------------------------------------------------------------

    def _registered_at(self, channel: str) -> dt.datetime:
        rng = self.rng
        moment = self.start + dt.timedelta(seconds=rng.randrange(730 * 86400))
        if channel in ("counter", "letter", "phone"):  # office hours, working days
            local = timezone.localtime(moment)
            while local.weekday() >= 5:
                local -= dt.timedelta(days=1)
            moment = local.replace(hour=rng.randint(8, 15), minute=rng.randrange(60))
        return min(moment, self.now - dt.timedelta(minutes=5))

    def _plan(self, categories: dict, count: int) -> list[tuple[str, str]]:
        """(category code, channel) pairs: every category and every channel at least once."""
        from cetatea.cases.choices import Channel

        rng = self.rng
        codes = list(categories)
        plan = [(code, channel_for(rng, code)) for code in codes]
        for channel in Channel.values:
            code = CHANNEL_CATEGORY.get(channel, "OTHER")
            plan.append((code if code in categories else codes[-1], channel))
        weights = {code: CATEGORY_WEIGHTS.get(code, 3) for code in codes}
        while len(plan) < count:
            code = weighted(rng, weights)
            plan.append((code, channel_for(rng, code)))
        return plan[: max(count, len(codes) + len(Channel.values))]

    def _create_cases(self, persons: list, count: int) -> list:
        from cetatea.cases.choices import Handler, Priority
        from cetatea.cases.services import Contact, case_create
        from cetatea.catalog.models import Category

        rng = self.rng
        categories = {c.code: c for c in Category.objects.filter(is_active=True)}
        if not categories:
            return []
        individuals = [p for p in persons if p.kind == "individual"]
        plan = [
            (code, channel, self._registered_at(channel))
            for code, channel in self._plan(categories, count)
        ]
        plan.sort(key=lambda item: item[2])  # references follow time
        cases = []
        for code, channel, registered_at in plan:
            category = categories[code]
            title, description = rng.choice(
                CASE_TEXTS.get(code) or [(category.name_ro, category.name_ro)]
            )
            street, nr = rng.choice(STREETS), rng.randint(1, 120)
            description = description.format(street=street, nr=nr)
            requester = None
            contact = None
            anonymous_ok = code not in DESK_CATEGORIES and channel not in (
                "robot",
                "counter",
                "letter",
            )
            if anonymous_ok and rng.random() < 0.45:
                roll = rng.random()
                first = weighted(rng, FEMALE_FIRST_NAMES if roll < 0.5 else MALE_FIRST_NAMES)
                if roll < 0.35:
                    contact = Contact(name=first, phone=national_phone(rng))
                elif roll < 0.7:
                    contact = Contact(
                        name=f"{first} {weighted(rng, LAST_NAMES)}",
                        email=f"{ascii_fold(first)}{rng.randint(10, 999)}@example.net",
                    )
                else:
                    contact = Contact()  # fully anonymous map report
            else:
                pool = persons if channel in ("email", "letter", "web") else individuals
                requester = rng.choice(pool)
            handler = handler_for(channel)
            actor = None
            if handler == Handler.STAFF:
                actor = self.users["clerk" if channel in ("counter", "letter") else "operator"]
            kwargs = {
                "channel": channel,
                "category": category,
                "title": title,
                "description": description,
                "requester": requester,
                "contact": contact,
                "actor": actor,
                "handler": handler,
                "registered_at": registered_at,
                "priority": Priority.HIGH if rng.random() < 0.08 else Priority.NORMAL,
            }
            if code not in DESK_CATEGORIES:
                # Problems in the city are on the public map, whatever channel brought them.
                kwargs["publication"] = "public"
                kwargs["address_text"] = f"{street} nr. {nr}, Alba Iulia"
                for _attempt in range(20):
                    kwargs["latitude"], kwargs["longitude"] = random_point(rng)
                    try:
                        cases.append(case_create(**kwargs))
                        break
                    except ValidationError as exc:
                        if "location" not in getattr(exc, "error_dict", {}):
                            raise
                continue
            cases.append(case_create(**kwargs))
        return cases

    def _advance_cases(self, cases: list) -> int:
        """Move cases along: old ones mostly closed, recent ones in every open state."""
        from cetatea.cases.choices import Status
        from cetatea.cases.services import case_add_note, case_assign, case_change_status

        rng = self.rng
        u = self.users
        changes = 0

        clock = {}

        def later(case):
            """The time of the case's next event: hours to days after the previous one."""
            step = dt.timedelta(minutes=rng.randint(20, 4 * 24 * 60))
            clock[case.pk] = min(clock[case.pk] + step, self.now)
            return clock[case.pk]

        def move(case, status, actor, text="", public=True):
            nonlocal changes
            case_change_status(
                case_id=case.pk,
                status=status,
                actor=actor,
                text=text,
                public=public,
                at=later(case),
            )
            changes += 1

        for case in cases:
            clock[case.pk] = case.registered_at
            age_days = (self.now - case.registered_at).days
            worker = u["crew"] if case.latitude is not None else u["staff"]
            roll = rng.random()
            if age_days > 45 and roll < 0.85:
                end = rng.random()
                if end < 0.07:
                    move(
                        case,
                        Status.NOT_RESPONSIBLE,
                        u["staff"],
                        "Nu este în responsabilitatea primăriei; v-am îndrumat către "
                        "instituția competentă.",
                    )
                elif end < 0.13:
                    move(
                        case,
                        Status.DUPLICATE,
                        u["staff"],
                        "Aceeași problemă a fost deja semnalată.",
                    )
                elif end < 0.16:
                    move(case, Status.WITHDRAWN, u["clerk"], "Retrasă la cererea petentului.")
                else:
                    move(case, Status.ACKNOWLEDGED, u["staff"], rng.choice(PUBLIC_REPLIES[:1]))
                    if rng.random() < 0.4:
                        case_assign(
                            case_id=case.pk, assignee=worker, actor=u["staff"], at=later(case)
                        )
                        changes += 1
                    if rng.random() < 0.15:
                        move(case, Status.ON_HOLD, u["staff"], PUBLIC_REPLIES[5])
                    move(case, Status.IN_PROGRESS, worker)
                    if rng.random() < 0.3:
                        case_add_note(
                            case_id=case.pk,
                            text=rng.choice(INTERNAL_NOTES),
                            actor=worker,
                            at=later(case),
                        )
                        changes += 1
                    if end < 0.22:
                        move(
                            case,
                            Status.UNABLE_TO_FIX,
                            u["staff"],
                            "Lucrarea necesită fonduri care nu sunt prevăzute în buget.",
                        )
                    else:
                        move(case, Status.FIXED, worker, PUBLIC_REPLIES[1])
                        if rng.random() < 0.05:
                            move(
                                case,
                                Status.REOPENED,
                                u["operator"],
                                "Cetățeanul a sunat: problema a reapărut.",
                            )
                            if rng.random() < 0.5:
                                move(case, Status.FIXED, worker, PUBLIC_REPLIES[1])
            else:  # the backlog: recent cases and a few old ones still open
                state = rng.random()
                if state < 0.3:
                    continue  # still new
                move(case, Status.ACKNOWLEDGED, u["staff"], PUBLIC_REPLIES[0])
                if state < 0.5:
                    continue
                if state < 0.6:
                    move(case, Status.ON_HOLD, u["staff"], PUBLIC_REPLIES[5])
                elif state < 0.75:
                    move(case, Status.PLANNED, u["staff"], PUBLIC_REPLIES[2])
                else:
                    case_assign(
                        case_id=case.pk, assignee=worker, actor=u["manager"], at=later(case)
                    )
                    changes += 1
                    move(case, Status.IN_PROGRESS, worker)
            if rng.random() < 0.12:
                case_add_note(
                    case_id=case.pk,
                    text=rng.choice(INTERNAL_NOTES),
                    actor=rng.choice([u["staff"], u["manager"]]),
                    at=later(case),
                )
                changes += 1
            if rng.random() < 0.08:
                case_add_note(
                    case_id=case.pk,
                    text=rng.choice(PUBLIC_REPLIES[2:5]),
                    actor=u["staff"],
                    public=True,
                    at=later(case),
                )
                changes += 1
        return changes

    # --- interactions ---------------------------------------------------------------------------

    def _log_interactions(self, persons: list, cases: list, count: int) -> int:
        from cetatea.cases.choices import Direction, Handler
        from cetatea.cases.services import interaction_log

        rng = self.rng
        u = self.users
        with_requester = [c for c in cases if c.requester_id]
        kinds = {
            "phone": 35,
            "robot": 20,
            "email_in": 15,
            "email_out": 10,
            "counter": 14,
            "letter": 3,
            "sms": 3,
        }
        logged = 0
        for _i in range(count):
            kind = weighted(rng, kinds)
            case = None
            person = rng.choice(persons)
            if with_requester and rng.random() < 0.3:
                case = rng.choice(with_requester)
                person = case.requester
                at = case.registered_at + dt.timedelta(minutes=rng.randint(60, 40 * 24 * 60))
            else:
                at = self.start + dt.timedelta(seconds=rng.randrange(730 * 86400))
            if kind != "robot":  # staff work office hours on working days
                at = timezone.localtime(at)
                while at.weekday() >= 5:
                    at -= dt.timedelta(days=1)
                at = at.replace(hour=rng.randint(8, 16), minute=rng.randrange(60))
            at = min(at, self.now - dt.timedelta(minutes=1))
            status_q = f"Întreabă stadiul sesizării {case.reference}." if case else ""
            values = {"person": person, "case": case, "occurred_at": at}
            if kind == "phone":
                values |= {
                    "channel": "phone",
                    "handled_by": u["operator"],
                    "duration_seconds": int(min(1800, rng.lognormvariate(5.2, 0.6))),
                    "summary": status_q or rng.choice(CALL_SUMMARIES),
                }
            elif kind == "robot":
                values |= {
                    "channel": "robot",
                    "handler": Handler.ROBOT,
                    "duration_seconds": rng.randint(25, 240),
                    "summary": (
                        f"Robot: stadiul sesizării {case.reference}."
                        if case
                        else rng.choice(ROBOT_SUMMARIES)
                    ),
                }
            elif kind == "email_in":
                values |= {
                    "channel": "email",
                    "summary": status_q or rng.choice(EMAIL_IN_SUMMARIES),
                }
            elif kind == "email_out":
                values |= {
                    "channel": "email",
                    "direction": Direction.OUTBOUND,
                    "handled_by": u["staff"],
                    "summary": rng.choice(EMAIL_OUT_SUMMARIES),
                }
            elif kind == "counter":
                values |= {
                    "channel": "counter",
                    "handled_by": u["clerk"],
                    "duration_seconds": rng.randint(120, 1500),
                    "summary": rng.choice(COUNTER_SUMMARIES),
                }
            elif kind == "letter":
                values |= {
                    "channel": "letter",
                    "handled_by": u["clerk"],
                    "summary": "Scrisoare primită prin poștă.",
                }
            else:
                values |= {
                    "channel": "sms",
                    "direction": Direction.OUTBOUND,
                    "handler": Handler.SYSTEM,
                    "summary": (
                        f"SMS: sesizarea {case.reference} a fost actualizată."
                        if case
                        else "SMS: reamintire scadență impozit."
                    ),
                }
            interaction_log(**values)
            logged += 1
        return logged
