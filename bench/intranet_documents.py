"""Benchmark the intranet's document search (issue 9) with 100,000 documents.

For each database (SQLite in ``var/bench-documents.sqlite3``; PostgreSQL, database
``cetatea_bench_documents`` on the server ``bench/run.py`` uses, created if missing) a
child process with the right environment:

1. migrates, creates ``--departments`` (12) departments with ``--staff`` (500) staff
   spread over them, and fills the database up to ``--documents`` (100,000) documents
   with ``generate_documents`` (timed): eight folders per department and ten shared
   ones, 85 % of the documents in department folders, each with a title and 60–160
   words of Romanian office prose (a Zipf-distributed vocabulary of ~300 words, plus
   street names, surnames and reference numbers that are rare), every version's text
   in the search index. PostgreSQL then gets ``ANALYZE``; SQLite is measured as loaded;
2. measures, for staff of one department (so the search filters by their folders),
   ``--iterations`` (200) calls of each kind of query with random inputs from the
   vocabulary: a common word, a word of middling frequency, a rare word, a word that
   is nowhere, a three-letter prefix, two words, a word of the titles, and the next
   pages of a common word (cursor). Both ``selectors.document_search`` alone and the
   whole search page through Django's test client (session, permissions, template:
   the server time of the request). Reported: p50/p95/p99/max, SQL statements per
   call, rows returned, and the plans (EXPLAIN; PostgreSQL ``EXPLAIN (ANALYZE,
   BUFFERS)``) of one call of each kind. Target: page p95 < 200 ms;
3. measures the documents panel of the intranet's home page (``home_panel``).

Results go to ``bench/results/intranet-documents-latest.json``; a Markdown table is
printed.

    python bench/intranet_documents.py                    # both databases
    python bench/intranet_documents.py --db sqlite --documents 20000 --iterations 50

``generate_documents(count, departments, users)`` is importable (with Django set up) for
an all-intranet benchmark.
"""

from __future__ import annotations

# SQL here is built from the search module's table names only.
# ruff: noqa: S608
import argparse
import datetime as dt
import json
import os
import platform
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import (  # noqa: E402
    DEFAULT_PG_ADMIN_URL,
    ROOT,
    _with_db,
    explain,
    percentile,
    postgres_url,
    spawn_child,
)

RESULTS = ROOT / "bench" / "results" / "intranet-documents-latest.json"
SQLITE_PATH = ROOT / "var" / "bench-documents.sqlite3"
PG_DB_NAME = "cetatea_bench_documents"
TARGET_MS = 200.0

SEARCHES = [
    ("common", "a common word (in ~20–40 % of the texts)"),
    ("middle", "a word of the vocabulary's tail (~9 % of the texts)"),
    ("rare", "a rare word (a reference number: ≤ 0.1 %)"),
    ("none", "a word that is nowhere"),
    ("prefix", "a three-letter prefix"),
    ("two_words", "two words"),
    ("title", "a word of the titles"),
    ("next_pages", "a common word, pages 2–5 (cursor)"),
]

# --- realistic text ----------------------------------------------------------------------------

# Office prose of a city hall, most frequent first (a Zipf distribution over this order).
COMMON = (
    "privind primariei conform contract proiect pentru lucrari serviciul directia "
    "solicitare aviz autorizatie strada consiliul local hotararea bugetul achizitie "
    "raport termen executie receptie documentatie tehnica investitie reparatii "
    "intretinere drumuri iluminat spatii verzi canalizare retea apa transport public "
    "parcare trotuar asfaltare semnalizare rutiera urbanism certificat constructie "
    "demolare cadastru intabulare proprietate concesiune inchiriere licitatie oferta "
    "caiet sarcini specificatii evaluare comisie membri sedinta ordine zi minuta proces "
    "verbal decizie dispozitie primar viceprimar secretar general compartiment resurse "
    "umane salarizare concediu program lucru evidenta persoanelor stare civila taxe "
    "impozite amenzi chitanta plata restanta executare silita somatie notificare "
    "petitie raspuns cetatean sesizare reclamatie audienta registratura intrare iesire "
    "arhiva inventar patrimoniu mijloace fixe amortizare contabilitate bilant buget "
    "venituri cheltuieli trimestru anual lunar situatie financiara control intern audit "
    "risc masuri plan actiune strategie dezvoltare fonduri europene cerere finantare "
    "beneficiar indicatori monitorizare implementare scoala gradinita spital cultura "
    "sport tineret asistenta sociala ajutor incalzire locuinta cantina varstnici "
    "persoane dizabilitati protectia copilului mediu deseuri colectare selectiva salubrizare "
    "zapada deszapezire utilaje echipa interventie dispecerat urgenta situatii "
    "inspectie teren constatare fotografii anexe formular model tipizat semnatura "
    "stampila original copie conforma dosar volum pagini numerotare termen legal zile "
    "lucratoare prelungire motivare solutionare clasare redirectionare competenta "
    "institutie prefectura judet minister agentia garda politia locala jandarmerie "
    "pompieri operator furnizor energie gaz termoficare telecomunicatii fibra optica"
).split()
STREETS = (
    "Closca Horea Crisan Mihai Viteazul Tudor Vladimirescu Avram Iancu Decebal Traian "
    "Calea Motilor Ardealului Transilvaniei Muresului Ampoiului Cetatii Primaverii "
    "Trandafirilor Liliacului Teilor Brazilor Stejarului Salciei Plopilor Zorilor "
    "Aurel Vlaicu Bucuresti Clujului Sebesului Tineretului Pacii Unirii Revolutiei "
    "Libertatii Independentei Garii Morii Dealului Vailor Izvorului Fantanele Partos "
    "Oarda Micesti Barabant Paclisa Lumina Dumbravei Arnsberg Cuza Eminescu Iorga "
    "Goga Rebreanu Sadoveanu Creanga Caragiale Blaga Cosbuc Alecsandri Bolintineanu"
).split()
SURNAMES = (
    "Popescu Ionescu Muresan Pop Rusu Moldovan Stan Dumitru Oprea Suciu Cristea Toma "
    "Barbu Nistor Lazar Matei Ardelean Bogdan Sandu Crisan Marin Florea Dinu Neagu "
    "Ene Coman Preda Vlad Tudor Radu Ilie Dobre Enache Mihai Gheorghe Constantin "
    "Niculescu Petrescu Sirbu Campean Hategan Bucur Olteanu Iancu Voicu Lupu Balan"
).split()
TITLES = (
    "Contract", "Proces-verbal de recepție", "Referat de necesitate", "Notă internă",
    "Raport de activitate", "Caiet de sarcini", "Dispoziție", "Proiect de hotărâre",
    "Minută ședință", "Adresă", "Aviz tehnic", "Deviz", "Situație de lucrări",
    "Plan de acțiune", "Procedură operațională", "Fișa postului", "Inventar",
    "Notă de fundamentare", "Răspuns petiție", "Raport de inspecție",
)  # fmt: skip
FOLDER_NAMES = (
    "Contracte", "Proceduri", "Rapoarte", "Corespondență", "Achiziții", "Ședințe",
    "Proiecte", "Arhivă curentă",
)  # fmt: skip
SHARED_NAMES = (
    "Toată primăria", "Regulamente", "Formulare", "Ghiduri", "Hotărâri CL",
    "Dispoziții primar", "Organigramă", "Proceduri comune", "Bugete", "Comunicate",
)  # fmt: skip
_WEIGHTS = [1 / (rank + 1) ** 1.05 for rank in range(len(COMMON))]


def prose(rng: random.Random, words: int) -> str:
    """A paragraph of office prose with the odd street, name and number."""
    parts = rng.choices(COMMON, weights=_WEIGHTS, k=words)
    for _ in range(rng.randint(0, 3)):
        parts.insert(rng.randrange(len(parts)), "strada " + rng.choice(STREETS))
    if rng.random() < 0.5:
        parts.insert(rng.randrange(len(parts)), rng.choice(SURNAMES))
    parts.append(f"nr. {rng.randint(1, 99999)}/{rng.randint(2020, 2026)}")
    return " ".join(parts).capitalize() + "."


def _departments_folders(departments, users, rng: random.Random):
    """Eight folders per department and ten shared ones (created once)."""
    from django.utils import timezone

    from cetatea.intranet.documents.choices import Level
    from cetatea.intranet.documents.models import Folder, FolderAccess

    existing = list(Folder.objects.filter(deleted_at__isnull=True))
    if existing:
        return existing
    from cetatea.catalog.models import StaffProfile

    now = timezone.now()
    author = users[0]
    # Each department's folders are managed by its first member; shared ones by users[0].
    managers: dict[int, int] = {}
    for user_id, department_id in StaffProfile.objects.filter(user__in=users).values_list(
        "user_id", "department_id"
    ):
        managers.setdefault(department_id, user_id)
    folders, grants = [], []
    for department in departments:
        for name in FOLDER_NAMES:
            folders.append(
                Folder(name=name, department=department, created_by=author, created_at=now)
            )
    for name in SHARED_NAMES:
        folders.append(Folder(name=name, department=None, created_by=author, created_at=now))
    Folder.objects.bulk_create(folders)
    folders = list(Folder.objects.order_by("pk"))
    for folder in folders:
        if folder.department_id is None:
            grants.append(FolderAccess(folder=folder, level=Level.VIEW))
        else:
            grants.append(
                FolderAccess(folder=folder, department_id=folder.department_id, level=Level.EDIT)
            )
        manager_id = managers.get(folder.department_id, author.pk)
        grants.append(FolderAccess(folder=folder, user_id=manager_id, level=Level.MANAGE))
    FolderAccess.objects.bulk_create(grants)
    return folders


def generate_documents(
    count: int, departments, users, *, seed: int = 1, batch: int = 5000, shared_share=0.15
) -> int:
    """Add ``count`` documents (with one version and their search text each) to the
    folders of ``departments`` (created if there are none) and to ten shared folders;
    authors taken from ``users``. One in five is a Markdown text, the others files whose
    stored name points nowhere (the search and lists do not open files). Returns the
    number added. Bulk inserts: the search index is kept by the database's triggers."""
    from django.db import transaction
    from django.utils import timezone

    from cetatea.core.text import fold
    from cetatea.intranet.documents.choices import Kind
    from cetatea.intranet.documents.models import Document, DocumentText, DocumentVersion

    rng = random.Random(seed)
    users = list(users)
    folders = _departments_folders(list(departments), users, rng)
    shared = [f for f in folders if f.department_id is None]
    by_department = [f for f in folders if f.department_id is not None]
    start = timezone.now() - dt.timedelta(days=3 * 365)
    step = dt.timedelta(days=3 * 365) / max(count, 1)
    done = 0
    while done < count:
        n = min(batch, count - done)
        docs, bodies = [], []
        for i in range(n):
            at = start + step * (done + i)
            folder = (
                rng.choice(shared) if rng.random() < shared_share else rng.choice(by_department)
            )
            author = rng.choice(users)
            kind = Kind.MARKDOWN if rng.random() < 0.2 else Kind.FILE
            title = f"{rng.choice(TITLES)} {rng.randint(1, 9999)}/{at.year}"
            if rng.random() < 0.3:
                title += " — strada " + rng.choice(STREETS)
            docs.append(
                Document(
                    folder=folder,
                    title=title,
                    kind=kind,
                    version=1,
                    created_by=author,
                    created_at=at,
                    updated_by=author,
                    updated_at=at,
                )
            )
            bodies.append("\n\n".join(prose(rng, rng.randint(20, 55)) for _ in range(3)))
        with transaction.atomic():
            Document.objects.bulk_create(docs)
            versions, texts = [], []
            for document, body in zip(docs, bodies, strict=True):
                markdown = document.kind == Kind.MARKDOWN
                versions.append(
                    DocumentVersion(
                        document=document,
                        number=1,
                        file="" if markdown else f"intranet/documents/{document.pk}/bench.pdf",
                        text=body if markdown else "",
                        original_name=f"{document.title[:40]}.{'md' if markdown else 'pdf'}",
                        content_type="text/markdown" if markdown else "application/pdf",
                        size=len(body),
                        sha256="0" * 64,
                        author=document.created_by,
                        created_at=document.created_at,
                    )
                )
                texts.append(
                    DocumentText(
                        document=document,
                        folder_id=document.folder_id,
                        version=1,
                        content_key=f"{fold(document.title)}\n{fold(body)}",
                    )
                )
            DocumentVersion.objects.bulk_create(versions)
            DocumentText.objects.bulk_create(texts)
        done += n
        print(f"  {done:,} / {count:,} documents", flush=True)
    return done


# --- parent ------------------------------------------------------------------------------------


def documents_postgres_url() -> str | None:
    explicit = os.environ.get("BENCH_DOCUMENTS_DATABASE_URL")
    saved = os.environ.get("BENCH_DATABASE_URL")
    os.environ["BENCH_DATABASE_URL"] = explicit or _with_db(DEFAULT_PG_ADMIN_URL, PG_DB_NAME)
    try:
        return postgres_url()
    finally:
        if saved is None:
            os.environ.pop("BENCH_DATABASE_URL", None)
        else:
            os.environ["BENCH_DATABASE_URL"] = saved


def run_child(label: str, env_update: dict, drop: list[str], args) -> dict:
    names = ("documents", "departments", "staff", "iterations", "seed")
    # The page is rendered without collectstatic having run.
    env_update = {**env_update, "CETATEA_PLAIN_STATIC": "true"}
    return spawn_child(
        __file__, label, env_update, drop, {n: getattr(args, n) for n in names}, media=True
    )


def markdown(runs: list[dict]) -> str:
    lines = [
        "| database | documents | query | selector p95 ms | page p50 ms | page p95 ms "
        "| page p99 ms | SQL/page | rows | page p95 < 200 ms |",
        "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for run in runs:
        for key, label in SEARCHES:
            s, p = run["selector"][key], run["page"][key]
            lines.append(
                f"| {run['label']} {run['version']} | {run['documents']:,} | {label} "
                f"| {s['p95_ms']} | {p['p50_ms']} | {p['p95_ms']} | {p['p99_ms']} "
                f"| {p['queries_min']}–{p['queries_max']} | {s['rows_per_call']} "
                f"| {'ok' if p['ok'] else '**missed**'} |"
            )
        h = run["home_panel"]
        lines.append(
            f"| {run['label']} {run['version']} | {run['documents']:,} | home panel (selector) "
            f"| {h['p95_ms']} | {h['p50_ms']} | — | {h['p99_ms']} | {h['queries']} | — | — |"
        )
    return "\n".join(lines)


def parent(args) -> None:
    runs: list[dict] = []
    wanted = {"sqlite", "postgres"} if args.db == "all" else {args.db}
    if "sqlite" in wanted:
        path = Path(args.sqlite_path)
        path.parent.mkdir(parents=True, exist_ok=True)
        runs.append(run_child("SQLite", {"CETATEA_SQLITE_PATH": str(path)}, ["DATABASE_URL"], args))
    if "postgres" in wanted:
        url = documents_postgres_url()
        if url is None:
            print("PostgreSQL: no server answers; skipped.", file=sys.stderr)
        else:
            runs.append(run_child("PostgreSQL", {"DATABASE_URL": url}, [], args))
    meta = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "iterations": args.iterations,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    if args.db != "all" and RESULTS.exists():  # keep the other database's last run
        measured = {r["label"] for r in runs}
        previous = json.loads(RESULTS.read_text()).get("runs", [])
        runs = [r for r in previous if r["label"] not in measured] + runs
    RESULTS.write_text(json.dumps({"meta": meta, "runs": runs}, indent=2, ensure_ascii=False))
    print()
    print(markdown(runs))
    for run in runs:
        print(f"\n{run['label']}: load average {run['load']['start']} -> {run['load']['end']}")
    print(f"\nResults written to {RESULTS.relative_to(ROOT)}")


# --- child -------------------------------------------------------------------------------------


def ensure_data(args) -> dict:
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import Group, User

    from cetatea.catalog.models import Department, StaffProfile
    from cetatea.core import roles
    from cetatea.intranet.documents.models import Document

    departments = []
    for i in range(args.departments):
        department, _ = Department.objects.get_or_create(
            code=f"bench-d{i:02d}",
            defaults={"name_ro": f"Direcția {i}", "name_en": f"Department {i}"},
        )
        departments.append(department)
    have = set(
        User.objects.filter(username__startswith="bench-staff-").values_list("username", flat=True)
    )
    password = make_password(None)
    new = [
        User(username=f"bench-staff-{i:04d}", password=password, is_active=True)
        for i in range(args.staff)
        if f"bench-staff-{i:04d}" not in have
    ]
    User.objects.bulk_create(new)
    users = list(User.objects.filter(username__startswith="bench-staff-").order_by("username"))
    group = Group.objects.get(name=roles.DEPARTMENT_STAFF)
    group.user_set.add(*users)
    profiled = set(StaffProfile.objects.filter(user__in=users).values_list("user_id", flat=True))
    StaffProfile.objects.bulk_create(
        [
            StaffProfile(user=u, department=departments[i % len(departments)])
            for i, u in enumerate(users)
            if u.pk not in profiled
        ]
    )
    existing = Document.objects.count()
    seeded = None
    if existing < args.documents:
        t0 = time.perf_counter()
        generate_documents(args.documents - existing, departments, users, seed=args.seed + existing)
        seeded = {
            "documents": args.documents - existing,
            "seconds": round(time.perf_counter() - t0, 1),
        }
        print(f"generated {seeded}", flush=True)
    return {"departments": departments, "users": users, "seeded": seeded}


def _count(word: str) -> int:
    """Documents holding ``word`` (any folder), from the index."""
    from django.db import connection

    from cetatea.intranet.documents.search import FTS_TABLE, TABLE

    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                f"SELECT count(*) FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s", [f'"{word}"']
            )
        else:
            cursor.execute(
                f"SELECT count(*) FROM {TABLE} WHERE search @@ to_tsquery('simple', %s)", [word]
            )
        return cursor.fetchone()[0]


def search_inputs(rng: random.Random, n: int, user) -> tuple[dict[str, list], dict]:
    import re

    from cetatea.core.text import fold
    from cetatea.intranet.documents.models import Document, DocumentText
    from cetatea.intranet.documents.selectors import document_search

    total = max(1, Document.objects.count())
    counts = {w: _count(w) for w in COMMON[:60]}
    common = [w for w, c in counts.items() if 0.2 * total <= c <= 0.45 * total] or COMMON[:8]
    middle_counts = {w: _count(w) for w in COMMON[80:]}
    middle = [w for w, c in middle_counts.items() if 0.03 * total <= c <= 0.12 * total]
    middle = middle or COMMON[-40:]
    # Rare words: the reference numbers ("nr. 48213/2024") of random documents.
    rare: list[str] = []
    top = DocumentText.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    while len(rare) < 40 and top:
        key = (
            DocumentText.objects.filter(pk__gte=rng.randint(1, top))
            .order_by("pk")
            .values_list("content_key", flat=True)
            .first()
        )
        rare += re.findall(r"\bnr (\d{5}) ", key or "")[:1]
    rare_counts = {w: _count(w) for w in rare}
    titles = sorted({fold(t).split()[0] for t in TITLES})
    inputs = {
        "common": [rng.choice(common) for _ in range(n)],
        "middle": [rng.choice(middle) for _ in range(n)],
        "rare": [rng.choice(rare) for _ in range(n)],
        "none": [f"zqx{rng.randint(1000, 9999)}" for _ in range(n)],
        "prefix": [rng.choice(common)[:3] for _ in range(n)],
        "two_words": [f"{rng.choice(common)} {rng.choice(middle)}" for _ in range(n)],
        "title": [rng.choice(titles) for _ in range(n)],
    }
    pages = []
    while len(pages) < n:
        word = rng.choice(common)
        page = document_search(user, word)
        for _ in range(4):
            if not page.next_cursor:
                break
            pages.append((word, page.next_cursor))
            page = document_search(user, word, cursor=page.next_cursor)
    inputs["next_pages"] = pages[:n]
    frequencies = {
        "common": {w: counts[w] for w in common},
        "middle": {w: middle_counts[w] for w in middle[:10]},
        "rare": {w: rare_counts[w] for w in rare[:10]},
    }
    return inputs, frequencies


def _stats(timings: list[float]) -> dict:
    timings.sort()
    return {
        "p50_ms": round(statistics.median(timings), 2),
        "p95_ms": round(percentile(timings, 0.95), 2),
        "p99_ms": round(percentile(timings, 0.99), 2),
        "max_ms": round(timings[-1], 2),
    }


def measure(inputs: dict[str, list], user, label: str) -> tuple[dict, dict, dict]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from cetatea.intranet.documents.selectors import document_search

    client = Client()
    client.force_login(user)
    client.cookies["django_language"] = "ro"

    def fresh_user():
        # Each request reads the user again; the selector alone does too.
        return type(user).objects.get(pk=user.pk)

    def selector_call(item):
        query, cursor = item if isinstance(item, tuple) else (item, "")
        return document_search(fresh_user(), query, cursor=cursor)

    def page_call(item):
        query, cursor = item if isinstance(item, tuple) else (item, "")
        params = {"q": query}
        if cursor:
            params["cursor"] = cursor
        response = client.get("/staff/intranet/documents/search/", params)
        assert response.status_code == 200, response.status_code
        return response

    selector, page, plans = {}, {}, {}
    for key, _label in SEARCHES:
        items = inputs[key]
        for item in items[:10]:
            selector_call(item)
            page_call(item)
        timings, rows = [], 0
        for i, item in enumerate(items):
            if i == 0:
                with CaptureQueriesContext(connection) as ctx:
                    selector_call(item)
                plans[key] = [
                    {"sql": q["sql"], "plan": explain(q["sql"])}
                    for q in ctx.captured_queries
                    if "documenttext" in q["sql"] or "documents_text_fts" in q["sql"]
                ]
            t0 = time.perf_counter_ns()
            result = selector_call(item)
            timings.append((time.perf_counter_ns() - t0) / 1e6)
            rows += len(result.items)
        selector[key] = {**_stats(timings), "rows_per_call": round(rows / len(items), 1)}
        timings, counts = [], []
        for i, item in enumerate(items):
            if i < 20:
                with CaptureQueriesContext(connection) as ctx:
                    page_call(item)
                counts.append(len(ctx.captured_queries))
            t0 = time.perf_counter_ns()
            page_call(item)
            timings.append((time.perf_counter_ns() - t0) / 1e6)
        stats = _stats(timings)
        page[key] = {
            **stats,
            "queries_min": min(counts),
            "queries_max": max(counts),
            "calls": len(items),
            "target_ms": TARGET_MS,
            "ok": stats["p95_ms"] < TARGET_MS,
        }
        print(
            f"{label:10} {key:10} selector p95 {selector[key]['p95_ms']:7.2f} | page p50 "
            f"{stats['p50_ms']:7.2f} p95 {stats['p95_ms']:7.2f} p99 {stats['p99_ms']:7.2f} ms "
            f"SQL {min(counts)}-{max(counts)} rows {selector[key]['rows_per_call']}",
            flush=True,
        )
    return selector, page, plans


def measure_home_panel(user, iterations: int) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from cetatea.intranet.documents.selectors import home_panel

    timings = []
    for i in range(iterations + 10):
        fresh = type(user).objects.get(pk=user.pk)
        if i == 0:
            with CaptureQueriesContext(connection) as ctx:
                home_panel(fresh)
            queries = len(ctx.captured_queries)
            continue
        t0 = time.perf_counter_ns()
        home_panel(fresh)
        if i >= 10:
            timings.append((time.perf_counter_ns() - t0) / 1e6)
    return {**_stats(timings), "queries": queries}


def child(args) -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cetatea.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import setup_test_environment

    from cetatea.intranet.documents.models import Document

    loads = {"start": [round(x, 2) for x in os.getloadavg()]}
    call_command("migrate", interactive=False, verbosity=0)
    data = ensure_data(args)
    vendor = connection.vendor
    with connection.cursor() as cursor:
        cursor.execute("select sqlite_version()" if vendor == "sqlite" else "show server_version")
        version = cursor.fetchone()[0]
        if vendor == "postgresql":
            cursor.execute("ANALYZE")
    setup_test_environment()  # the test client's host, e-mail in memory
    # A member of the first department who manages no folder: sees its eight folders and
    # the ten shared ones (about a fifth of the documents).
    user = data["users"][len(data["departments"]) * 2]
    rng = random.Random(args.seed)
    inputs, frequencies = search_inputs(rng, args.iterations, user)
    print(f"word frequencies (documents): {frequencies}", flush=True)
    selector, page, plans = measure(inputs, user, args.child)
    home = measure_home_panel(user, args.iterations)
    print(f"{args.child:10} home panel p50 {home['p50_ms']} p95 {home['p95_ms']} ms", flush=True)
    loads["end"] = [round(x, 2) for x in os.getloadavg()]
    run = {
        "label": args.child,
        "vendor": vendor,
        "version": version,
        "documents": Document.objects.count(),
        "departments": len(data["departments"]),
        "staff": len(data["users"]),
        "seeded": data["seeded"],
        "frequencies": frequencies,
        "selector": selector,
        "page": page,
        "home_panel": home,
        "plans": plans,
        "load": loads,
    }
    Path(args.out).write_text(json.dumps(run, indent=2, ensure_ascii=False, default=str))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--documents", type=int, default=100_000)
    parser.add_argument("--departments", type=int, default=12)
    parser.add_argument("--staff", type=int, default=500)
    parser.add_argument("--iterations", type=int, default=200)
    parser.add_argument("--db", choices=["all", "sqlite", "postgres"], default="all")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--sqlite-path", default=str(SQLITE_PATH), help=argparse.SUPPRESS)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
    else:
        parent(args)


if __name__ == "__main__":
    main()
