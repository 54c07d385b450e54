"""Benchmark the staff intranet (issue 9): 1,000,000 messages, 100,000 documents, the home page.

For each database (SQLite in ``var/bench-intranet.sqlite3``; PostgreSQL, database
``cetatea_bench_intranet`` on the server ``bench/run.py`` uses, created if missing) a
child process with the right environment:

1. migrates and, unless the database already holds them, generates (timed):
   ``--staff`` (500) accounts with staff profiles in ``--departments`` (12) departments
   and role groups (``ensure_staff``, reusable by the other intranet benchmarks); a
   channel per department, 40 public topic channels (each person joins 5), 30 private
   channels of 12 people, 400 direct conversations; and ``--messages`` (1,000,000)
   messages, bulk-inserted with explicit ids (SQLite: ``executemany`` in batches with
   the FTS5 triggers off, then one ``rebuild``; PostgreSQL: ``COPY``, the trigram index
   built afterwards), 3 % of them with an @mention; read pointers are set a few
   messages behind each channel's end, so unread counts are not all zero;
   ``--documents`` (100,000) documents in the bench's departments by
   ``bench/intranet_documents.py``'s ``generate_documents`` (eight folders per
   department, ten shared ones), with one unseen @mention in a document comment per
   staff member; and, bounded, the other home panels' data (``ensure_panels``): a task
   board per department with 12 tasks per person (8 open) and an unseen task mention
   each, a team and a post per department and a published shift per person and working
   day of the current and the next week (topped up on later runs). PostgreSQL then gets
   ``ANALYZE``; SQLite is measured as loaded (if it never was analysed), then after
   ``ANALYZE``;
2. **server time** through Django's test ``Client`` in the same process (middleware,
   session, the permission checks, the view, the template), ``--iterations`` (200)
   requests per row after 10 warm-up requests, random staff and channels:

   * a channel's latest page (50 messages; it also moves the read pointer);
   * an older page (``?before=`` a random message of the channel);
   * the poll with nothing new (204) and with a new message;
   * posting a message (htmx);
   * the conversations list with unread counts (the messages index page), and
     ``selectors.home_panel`` alone (unread counts and latest mentions);
   * searches: a common word, a rare word (≈ 0.1 %), a word that is nowhere, two words;
   * ``measure_home``: the intranet home page (``intranet:home``), which the lead
     completes with every part's panel;

   reported: p50/p95/p99/max in ms, SQL statements per request, and the plans (EXPLAIN;
   PostgreSQL ``EXPLAIN (ANALYZE, BUFFERS)``) of the statements of one request of each.

Targets (issue 9): the channel's latest page and the home page p95 < 100 ms; the search
p95 < 200 ms (the documents' search target, used here for messages too). The messages
the benchmark posts stay in the bench database. Results go to
``bench/results/intranet-latest.json``; a Markdown table is printed.

    python bench/intranet.py                       # both databases
    python bench/intranet.py --db postgres --iterations 100
    python bench/intranet.py --db sqlite --messages 100000 --documents 10000 \
        --sqlite-path var/small.sqlite3
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
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

RESULTS = ROOT / "bench" / "results" / "intranet-latest.json"
SQLITE_PATH = ROOT / "var" / "bench-intranet.sqlite3"
PG_DB_NAME = "cetatea_bench_intranet"
PAGE_TARGET_MS = 100.0
SEARCH_TARGET_MS = 200.0
USER_PREFIX = "bench-staff-"
DEPT_PREFIX = "bench-dept-"
PUBLIC_CHANNELS = 40
JOINED_PUBLIC = 5
PRIVATE_CHANNELS = 30
PRIVATE_SIZE = 12
DIRECTS = 400
MENTION_SHARE = 0.03

ROWS = [
    # key, label, target
    ("channel", "channel: latest page (50 messages)", PAGE_TARGET_MS),
    ("older", "channel: an older page (?before=)", PAGE_TARGET_MS),
    ("poll_none", "poll, nothing new (204)", None),
    ("poll_new", "poll, one new message", None),
    ("post", "post a message (htmx)", None),
    ("index", "conversations list with unread counts", PAGE_TARGET_MS),
    ("panel", "home panel alone (selectors.home_panel)", None),
    ("search_common", "search: a common word", SEARCH_TARGET_MS),
    ("search_rare", "search: a rare word (≈ 0.1 %)", SEARCH_TARGET_MS),
    ("search_none", "search: a word that is nowhere", SEARCH_TARGET_MS),
    ("search_two", "search: two words", SEARCH_TARGET_MS),
    ("home", "intranet home page (measure_home)", PAGE_TARGET_MS),
]

# Words of the generated messages: common ones (Zipf-like weights) and rare ones.
WORDS = (
    "și la de în cu pe azi mâine ședință dosar cerere stradă groapă asfalt iluminat "
    "program tură ghișeu registratură petiție taxe amendă contract licitație raport "
    "termen aviz autorizație urbanism primar consiliu buget factură plată chitanță "
    "echipă teren sesizare apel operator cetățean adresă răspuns verificare semnătură "
    "scanat trimis primit aprobat respins urgent mulțumesc vă rog bună dimineața "
    "salut ok gata revin imediat sună verificați atașat documentul lista noua veche "
    "birou sala etaj parcare mașina deszăpezire salubrizare spații verzi parc școală"
).split()
RARE_WORDS = [f"proiectul{n:03d}" for n in range(10)]  # each ≈ 0.01 %, all ≈ 0.1 %
NOWHERE = "zzqxnicaieri"


# --- parent -------------------------------------------------------------------------------


def intranet_postgres_url() -> str | None:
    """The PostgreSQL database of this benchmark (created like ``bench/run.py`` does)."""
    explicit = os.environ.get("BENCH_INTRANET_DATABASE_URL")
    saved = os.environ.get("BENCH_DATABASE_URL")
    os.environ["BENCH_DATABASE_URL"] = explicit or _with_db(DEFAULT_PG_ADMIN_URL, PG_DB_NAME)
    try:
        return postgres_url()
    finally:
        if saved is None:
            os.environ.pop("BENCH_DATABASE_URL", None)
        else:
            os.environ["BENCH_DATABASE_URL"] = saved


def run_child(label: str, env_update: dict, drop: list[str], args) -> list[dict]:
    names = ("staff", "departments", "messages", "documents", "iterations", "seed")
    return spawn_child(
        __file__, label, env_update, drop, {n: getattr(args, n) for n in names}, media=True
    )


def _verdict(p95: float, target: float | None) -> str:
    if target is None:
        return "—"
    return f"< {target:g} ms " + ("ok" if p95 < target else "**missed**")


def markdown(runs: list[dict]) -> str:
    lines = [
        "| database | messages | documents | what | p50 ms | p95 ms | p99 ms | max ms | CPU p95 ms "
        "| SQL/request | p95 target |",
        "| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for run in runs:
        for key, label, target in ROWS:
            r = run["results"].get(key)
            if r is None:
                continue
            queries = (
                str(r["queries_min"])
                if r["queries_min"] == r["queries_max"]
                else f"{r['queries_min']}–{r['queries_max']}"
            )
            lines.append(
                f"| {run['label']} | {run['messages']:,} | {run.get('documents', 0):,} | "
                f"{label} | {r['p50_ms']:.1f} | "
                f"{r['p95_ms']:.1f} | {r['p99_ms']:.1f} | {r['max_ms']:.1f} | "
                f"{r.get('cpu_p95_ms', 0):.1f} | {queries} | "
                f"{_verdict(r['p95_ms'], target)} |"
            )
    return "\n".join(lines)


def parent(args) -> None:
    runs: list[dict] = []
    wanted = {"sqlite", "postgres"} if args.db == "all" else {args.db}
    if "sqlite" in wanted:
        path = Path(args.sqlite_path)
        path.parent.mkdir(parents=True, exist_ok=True)
        runs += run_child("SQLite", {"CETATEA_SQLITE_PATH": str(path)}, ["DATABASE_URL"], args)
    if "postgres" in wanted:
        url = intranet_postgres_url()
        if url is None:
            print("PostgreSQL: no server answers; skipped.", file=sys.stderr)
        else:
            runs += run_child("PostgreSQL", {"DATABASE_URL": url}, [], args)
    meta = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "iterations": args.iterations,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    if args.db != "all" and RESULTS.exists():  # keep the other database's last run
        measured = {r["vendor"] for r in runs}
        previous = json.loads(RESULTS.read_text()).get("runs", [])
        runs = [r for r in previous if r["vendor"] not in measured] + runs
    RESULTS.write_text(json.dumps({"meta": meta, "runs": runs}, indent=2, ensure_ascii=False))
    print()
    print(markdown(runs))
    for run in runs:
        print(f"\n{run['label']}: load average {run['load']}; generated: {run['generated']}")
    print(f"\nResults written to {RESULTS.relative_to(ROOT)}")


# --- child: data --------------------------------------------------------------------------


def load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def ensure_staff(count: int, departments: int) -> list:
    """``count`` staff accounts (``bench-staff-NNN``) with staff profiles spread over
    ``departments`` departments and role groups; created once, then reused. Returns the
    users. The other intranet benchmarks use it too."""
    from django.contrib.auth.models import Group, User

    from cetatea.catalog.models import Department, StaffProfile
    from cetatea.core import roles

    depts = []
    for n in range(departments):
        dept, _created = Department.objects.get_or_create(
            code=f"{DEPT_PREFIX}{n:02d}",
            defaults={"name_ro": f"Direcția {n + 1}", "name_en": f"Department {n + 1}"},
        )
        depts.append(dept)
    have = {u.username: u for u in User.objects.filter(username__startswith=USER_PREFIX)}
    rng = random.Random(7)
    first = ["Ion", "Maria", "Elena", "Andrei", "Ioana", "Mihai", "Ana", "Vasile", "Ștefan"]
    last = ["Popescu", "Ionescu", "Mureșan", "Pop", "Moldovan", "Țurcan", "Șerban", "Dobre"]
    new = [
        User(
            username=f"{USER_PREFIX}{n:03d}",
            first_name=rng.choice(first),
            last_name=rng.choice(last),
            email=f"{USER_PREFIX}{n:03d}@primarie.test",
            password="!",  # noqa: S106 (unusable: the benchmark logs in with force_login)
        )
        for n in range(count)
        if f"{USER_PREFIX}{n:03d}" not in have
    ]
    if new:
        User.objects.bulk_create(new, batch_size=500)
        users = list(User.objects.filter(username__in=[u.username for u in new]).order_by("pk"))
        groups = {g.name: g for g in Group.objects.all()}
        # Most are department staff; some operators, crews, clerks and managers.
        shares = [
            (roles.DEPARTMENT_STAFF, 0.70),
            (roles.OPERATOR, 0.15),
            (roles.FIELD_CREW, 0.08),
            (roles.REGISTRY_CLERK, 0.05),
            (roles.MANAGER, 0.02),
        ]
        through = User.groups.through
        rows, profiles = [], []
        for i, user in enumerate(users):
            x, role = (i % 100) / 100, shares[-1][0]
            acc = 0.0
            for name, share in shares:
                acc += share
                if x < acc:
                    role = name
                    break
            rows.append(through(user_id=user.pk, group_id=groups[role].pk))
            profiles.append(
                StaffProfile(
                    user=user, department=depts[i % len(depts)], phone_extension=f"{100 + i}"
                )
            )
        through.objects.bulk_create(rows, batch_size=1000)
        StaffProfile.objects.bulk_create(profiles, batch_size=1000)
    try:  # the staff directory's name keys (no post_save on bulk_create)
        from cetatea.intranet.services import directory_sync
    except ImportError:
        directory_sync = None
    if directory_sync is not None:
        directory_sync(
            user_ids=User.objects.filter(username__startswith=USER_PREFIX).values_list(
                "pk", flat=True
            )
        )
    return list(
        User.objects.filter(username__startswith=USER_PREFIX)
        .select_related("staff_profile")
        .order_by("pk")[:count]
    )


def _channels(users, rng) -> dict[int, list[int]]:
    """The bench's channels and memberships (created once); channel id -> member ids
    (for public channels: who joined)."""
    from cetatea.intranet.chat.choices import ChannelKind
    from cetatea.intranet.chat.models import Channel, Membership

    members: dict[int, list[int]] = {}
    if Channel.objects.filter(name__startswith="bench ").exists():
        for m in Membership.objects.filter(channel__name__startswith="bench ").values_list(
            "channel_id", "user_id"
        ):
            members.setdefault(m[0], []).append(m[1])
        return members
    by_dept: dict[int, list[int]] = {}
    for u in users:
        by_dept.setdefault(u.staff_profile.department_id, []).append(u.pk)
    memberships = []
    for dept_id, ids in by_dept.items():
        channel = Channel.objects.create(
            kind=ChannelKind.DEPARTMENT, name=f"bench dept {dept_id}", department_id=dept_id
        )
        members[channel.pk] = list(ids)
        memberships += [Membership(channel=channel, user_id=i) for i in ids]
    public = [
        Channel.objects.create(kind=ChannelKind.PUBLIC, name=f"bench topic {n:02d}")
        for n in range(PUBLIC_CHANNELS)
    ]
    for u in users:
        for channel in rng.sample(public, JOINED_PUBLIC):
            members.setdefault(channel.pk, []).append(u.pk)
            memberships.append(Membership(channel=channel, user_id=u.pk))
    ids = [u.pk for u in users]
    for n in range(PRIVATE_CHANNELS):
        channel = Channel.objects.create(kind=ChannelKind.PRIVATE, name=f"bench private {n:02d}")
        chosen = rng.sample(ids, PRIVATE_SIZE)
        members[channel.pk] = chosen
        memberships += [Membership(channel=channel, user_id=i, invited=True) for i in chosen]
    pairs = set()
    while len(pairs) < DIRECTS:
        a, b = sorted(rng.sample(ids, 2))
        pairs.add((a, b))
    for a, b in sorted(pairs):
        channel = Channel.objects.create(
            kind=ChannelKind.DIRECT, name=f"bench dm {a}-{b}", direct_key=f"{a}-{b}"
        )
        members[channel.pk] = [a, b]
        memberships += [Membership(channel=channel, user_id=i, invited=True) for i in (a, b)]
    Membership.objects.bulk_create(memberships, batch_size=2000)
    return members


def ensure_messages(users, target: int, seed: int) -> dict:
    """Top the bench channels up to ``target`` messages in all (timed)."""
    from django.db import connection, transaction
    from django.db.models import Max
    from django.utils import timezone

    from cetatea.core.text import fold
    from cetatea.intranet.chat.models import Channel, Membership, Message
    from cetatea.intranet.chat.search import drop_body_index, ensure_body_index

    rng = random.Random(seed)
    members = _channels(users, rng)
    have = Message.objects.count()
    if have >= target:
        ensure_body_index(connection)  # an interrupted run may have dropped it
        return {"messages": have, "seconds": 0}
    usernames = {u.pk: u.username for u in users}
    channel_ids = list(members)
    kinds = dict(Channel.objects.filter(pk__in=channel_ids).values_list("pk", "kind"))
    # Where the traffic is: department channels 40 %, topics 35 %, private 10 %, DMs 15 %.
    weight = {"department": 40 / 12, "public": 35 / 40, "private": 10 / 30, "direct": 15 / 400}
    weights = [weight[kinds[c]] for c in channel_ids]
    folded = [fold(w) for w in WORDS]
    zipf = [1 / (i + 1) for i in range(len(WORDS))]
    started = time.perf_counter()
    todo = target - have
    next_id = (Message.objects.aggregate(m=Max("id"))["m"] or 0) + 1
    now = timezone.now()
    span = dt.timedelta(days=180).total_seconds()
    vendor = connection.vendor
    print(f"generating {todo:,} messages…", flush=True)
    drop_body_index(connection)
    channel_of = rng.choices(channel_ids, weights=weights, k=todo)
    mention_rows = []
    batch = 20_000

    def rows(start: int, stop: int):
        for i in range(start, stop):
            mid = next_id + i
            channel = channel_of[i]
            author = rng.choice(members[channel])
            n = rng.randint(4, 18)
            idx = rng.choices(range(len(WORDS)), weights=zipf, k=n)
            words = [WORDS[j] for j in idx]
            keys = [folded[j] for j in idx]
            if rng.random() < 0.001:
                rare = rng.choice(RARE_WORDS)
                words.append(rare)
                keys.append(rare)
            if rng.random() < MENTION_SHARE and len(members[channel]) > 1:
                target_user = rng.choice([m for m in members[channel] if m != author])
                name = usernames[target_user]
                words.insert(0, "@" + name)
                keys.insert(0, fold(name))
                mention_rows.append((mid, target_user, channel))
            body = " ".join(words)
            at = now - dt.timedelta(seconds=span * (1 - (i + 1) / todo) + 60)
            yield mid, channel, author, body, " ".join(keys), at

    with transaction.atomic():
        if vendor == "postgresql":
            raw = connection.connection
            with raw.cursor() as cur:
                with cur.copy(
                    "COPY chat_message (id, channel_id, author_id, body, body_key, created_at) "
                    "FROM STDIN"
                ) as copy:
                    for n, row in enumerate(rows(0, todo)):
                        copy.write_row(row)
                        if n % 200_000 == 0 and n:
                            print(f"  {n:,}", flush=True)
                cur.execute(
                    "SELECT setval(pg_get_serial_sequence('chat_message', 'id'), "
                    "(SELECT MAX(id) FROM chat_message))"
                )
        else:
            with connection.cursor() as cur:
                for start in range(0, todo, batch):
                    cur.executemany(
                        "INSERT INTO chat_message (id, channel_id, author_id, body, body_key, "
                        "created_at) VALUES (%s, %s, %s, %s, %s, %s)",
                        [
                            (*r[:5], r[5].astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f"))
                            for r in rows(start, min(start + batch, todo))
                        ],
                    )
                    if start % 200_000 == 0 and start:
                        print(f"  {start:,}", flush=True)
        with connection.cursor() as cur:
            for start in range(0, len(mention_rows), batch):
                cur.executemany(
                    "INSERT INTO chat_mention (message_id, user_id, channel_id) "
                    "VALUES (%s, %s, %s)",
                    mention_rows[start : start + batch],
                )
        inserted = time.perf_counter() - started
        print(f"  inserted in {inserted:.0f} s", flush=True)
        # Each channel's newest id, and read pointers a few messages behind it.
        last = dict(
            Message.objects.values("channel_id")
            .annotate(m=Max("id"))
            .values_list("channel_id", "m")
            .order_by()
        )
        for channel_id, last_id in last.items():
            Channel.objects.filter(pk=channel_id).update(last_message_id=last_id)
        pointers = []
        for m in Membership.objects.filter(channel_id__in=last).only("pk", "channel_id"):
            behind = rng.choice([0, 0, 0, 1, 3, 10, 40, 200])
            pointers.append((max(last[m.channel_id] - behind * 25, 0), m.pk))
        with connection.cursor() as cur:
            cur.executemany("UPDATE chat_membership SET last_read_id = %s WHERE id = %s", pointers)
    # After the commit: PostgreSQL cannot index a table with deferred checks pending.
    print("  indexing the bodies…", flush=True)
    ensure_body_index(connection)
    seconds = time.perf_counter() - started
    print(f"generated {todo:,} messages in {seconds:.0f} s", flush=True)
    return {"messages": Message.objects.count(), "seconds": round(seconds)}


def ensure_documents(users, target: int, seed: int) -> dict:
    """Top the database up to ``target`` documents with ``bench/intranet_documents.py``'s
    ``generate_documents`` (the bench's departments and staff; timed), then give each
    staff member one unseen @mention in a comment on a document of their department."""
    from django.db import transaction
    from intranet_documents import generate_documents

    from cetatea.catalog.models import Department
    from cetatea.intranet.documents.models import Comment, Document, Mention

    have = Document.objects.count()
    if have >= target:
        return {"documents": have, "seconds": 0}
    started = time.perf_counter()
    departments = list(Department.objects.filter(code__startswith=DEPT_PREFIX).order_by("code"))
    print(f"generating {target - have:,} documents…", flush=True)
    generate_documents(target - have, departments, users, seed=seed + have)
    rng = random.Random(seed)
    recent: dict[int, list[int]] = {}
    for dept in departments:
        recent[dept.pk] = list(
            Document.objects.filter(folder__department=dept)
            .order_by("-updated_at")
            .values_list("pk", flat=True)[:200]
        )
    with transaction.atomic():
        now = dt.datetime.now(dt.UTC)
        comments, targets = [], []
        for user in users:
            pool = recent.get(user.staff_profile.department_id)
            if not pool:
                continue
            author = rng.choice(users)
            comments.append(
                Comment(
                    document_id=rng.choice(pool),
                    author=author,
                    body=f"@{user.username} vă rog verificați documentul",
                    created_at=now - dt.timedelta(minutes=rng.randint(1, 10_000)),
                )
            )
            targets.append(user)
        Comment.objects.bulk_create(comments, batch_size=1000)
        Mention.objects.bulk_create(
            [
                Mention(comment=c, document_id=c.document_id, user=u, created_at=c.created_at)
                for c, u in zip(comments, targets, strict=True)
            ],
            batch_size=1000,
        )
    seconds = time.perf_counter() - started
    print(f"generated {target - have:,} documents in {seconds:.0f} s", flush=True)
    return {"documents": Document.objects.count(), "seconds": round(seconds)}


def ensure_panels(users, seed: int) -> dict:
    """Bounded data for the home page's other panels, in bulk (created once; the shifts
    are topped up for the current and the next week on every run): a task board per
    department with 12 tasks per staff member (8 open, half with a due time, some
    overdue; 4 done) and one unseen @mention each; a team and a post per department and
    a published 08:00–16:00 shift per staff member and working day."""
    from django.db import transaction

    from cetatea.catalog.models import Department, Team
    from cetatea.intranet.schedules import clock
    from cetatea.intranet.schedules.models import Post, Shift
    from cetatea.intranet.tasks.choices import Status
    from cetatea.intranet.tasks.models import Board, Comment, Mention, Task

    started = time.perf_counter()
    rng = random.Random(seed)
    departments = list(Department.objects.filter(code__startswith=DEPT_PREFIX).order_by("code"))
    by_dept: dict[int, list] = {}
    for u in users:
        by_dept.setdefault(u.staff_profile.department_id, []).append(u)
    created = {"tasks": 0, "shifts": 0}
    now = dt.datetime.now(dt.UTC)
    with transaction.atomic():
        if not Board.objects.filter(name__startswith="bench board ").exists():
            boards = {
                d.pk: Board.objects.create(
                    name=f"bench board {d.code}", department=d, created_by=users[0]
                )
                for d in departments
            }
            tasks = []
            for u in users:
                board = boards[u.staff_profile.department_id]
                for n in range(12):
                    done = n >= 8
                    due = now + dt.timedelta(hours=rng.randint(-120, 720)) if n % 2 == 0 else None
                    tasks.append(
                        Task(
                            board=board,
                            title=f"Sarcina {n + 1}: {rng.choice(WORDS[10:60])}",
                            assignee=u,
                            due_at=due,
                            status=Status.DONE
                            if done
                            else rng.choice([Status.TODO, Status.IN_PROGRESS]),
                            position=n,
                            created_by=users[0],
                            completed_at=now if done else None,
                        )
                    )
            Task.objects.bulk_create(tasks, batch_size=2000)
            mine = {}
            for t in tasks:
                if t.status != Status.DONE:
                    mine.setdefault(t.assignee_id, t)
            names = {u.pk: u.username for u in users}
            comments = [
                Comment(task=t, author=rng.choice(users), body=f"@{names[uid]} te rog")
                for uid, t in mine.items()
            ]
            Comment.objects.bulk_create(comments, batch_size=1000)
            Mention.objects.bulk_create(
                [Mention(comment=c, task=c.task, user_id=c.task.assignee_id) for c in comments],
                batch_size=1000,
            )
            created["tasks"] = len(tasks)
        teams, posts = {}, {}
        for d in departments:
            teams[d.pk], _ = Team.objects.get_or_create(
                code=f"bench-team-{d.code}",
                defaults={"department": d, "name_ro": f"Echipa {d.code}", "name_en": d.code},
            )
            posts[d.pk], _ = Post.objects.get_or_create(
                code=f"bench-post-{d.code}",
                defaults={"team": teams[d.pk], "name_ro": f"Ghișeu {d.code}", "name_en": d.code},
            )
            members = [u.pk for u in by_dept.get(d.pk, [])]
            teams[d.pk].members.add(*members)
        monday = clock.monday_of(clock.today())
        start, end = clock.days_span(monday, monday + dt.timedelta(days=13))
        have = {
            (p, clock.local_date(s))
            for p, s in Shift.objects.filter(
                post__in=list(posts.values()), start__gte=start, start__lt=end
            ).values_list("person_id", "start")
        }
        shifts = []
        for day in clock.date_range(monday, monday + dt.timedelta(days=13)):
            if day.weekday() >= 5:
                continue
            s, e = clock.window(day, dt.time(8, 0), dt.time(16, 0))
            for u in users:
                if (u.pk, day) in have:
                    continue
                dept_id = u.staff_profile.department_id
                shifts.append(
                    Shift(
                        team=teams[dept_id],
                        post=posts[dept_id],
                        person=u,
                        start=s,
                        end=e,
                        published=True,
                    )
                )
        Shift.objects.bulk_create(shifts, batch_size=2000)
        created["shifts"] = len(shifts)
    created["seconds"] = round(time.perf_counter() - started, 1)
    return created


# --- child: measures ----------------------------------------------------------------------


_CLIENT_CLASS = None


def timed_client():
    """Django's test Client, timing only the request through the handler."""
    global _CLIENT_CLASS
    if _CLIENT_CLASS is None:
        from django.test import Client

        class TimedClient(Client):
            elapsed_ms = 0.0
            cpu_ms = 0.0

            def request(self, **request):
                c0, t0 = time.thread_time_ns(), time.perf_counter_ns()
                response = super().request(**request)
                self.elapsed_ms = (time.perf_counter_ns() - t0) / 1e6
                self.cpu_ms = (time.thread_time_ns() - c0) / 1e6
                return response

        _CLIENT_CLASS = TimedClient
    return _CLIENT_CLASS()


def _stats(times: list[float], queries: list[int], cpu: list[float] | None = None) -> dict:
    times = sorted(times)
    cpu = sorted(cpu or times)
    return {
        "cpu_p95_ms": percentile(cpu, 0.95),
        "p50_ms": statistics.median(times),
        "p95_ms": percentile(times, 0.95),
        "p99_ms": percentile(times, 0.99),
        "max_ms": times[-1],
        "queries_min": min(queries),
        "queries_max": max(queries),
        "n": len(times),
    }


def _run(clients, cases, iterations: int, plans: dict, key: str) -> dict:
    """Call ``cases`` (a function of (rng, i) -> (client, method, path, data)) and time
    the request; the statements of the first measured call are explained."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    times, queries, cpu = [], [], []
    rng = random.Random(sum(map(ord, key)))
    for i in range(iterations + 10):
        client, method, path, data, extra = cases(rng, i)
        connection.queries_log.clear()  # the log keeps 9,000 statements
        with CaptureQueriesContext(connection) as ctx:
            response = getattr(client, method)(path, data or {}, **extra)
        if response.status_code not in (200, 204, 302):
            raise SystemExit(f"{key}: {path} answered {response.status_code}")
        if i < 10:
            continue
        times.append(client.elapsed_ms)
        cpu.append(client.cpu_ms)
        queries.append(len(ctx.captured_queries))
        if i == 10:
            plans[key] = [
                {"sql": q["sql"][:600], "plan": _explain(q["sql"])}
                for q in ctx.captured_queries
                if q["sql"].startswith("SELECT") and "chat_" in q["sql"]
            ]
    return _stats(times, queries, cpu)


def _explain(sql: str) -> list[str]:
    try:
        return explain(sql)
    except Exception as exc:  # noqa: BLE001 (a plan is information, not the measure)
        return [f"(no plan: {exc})"]


def _panel_run(users, iterations: int) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from cetatea.intranet.chat.selectors import home_panel

    rng = random.Random(3)
    times, queries, cpu = [], [], []
    for i in range(iterations + 10):
        user = rng.choice(users)
        user = type(user).objects.get(pk=user.pk)  # no cached department
        connection.queries_log.clear()
        with CaptureQueriesContext(connection) as ctx:
            c0, t0 = time.thread_time_ns(), time.perf_counter_ns()
            home_panel(user)
            elapsed = (time.perf_counter_ns() - t0) / 1e6
            used = (time.thread_time_ns() - c0) / 1e6
        if i >= 10:
            times.append(elapsed)
            cpu.append(used)
            queries.append(len(ctx.captured_queries))
    return _stats(times, queries, cpu)


def measure_home(clients, users, iterations: int, plans: dict) -> dict | None:
    """LEAD: the intranet home page (``intranet:home``) for random staff. It measures
    whatever the home page renders now; once every part's panel is included, these are
    the figures of the issue's "home page p95 < 100 ms"."""
    from django.urls import reverse

    path = reverse("intranet:home")

    def case(rng, i):
        return clients[rng.choice(users).pk], "get", path, None, {}

    return _run(clients, case, iterations, plans, "home")


def measure(users, members: dict[int, list[int]], iterations: int) -> tuple[dict, dict]:
    from django.db.models import Max, Min
    from django.urls import reverse

    from cetatea.intranet.chat.models import Channel, Message

    clients = {}
    for u in users:
        c = timed_client()
        c.force_login(u)
        clients[u.pk] = c
    user_ids = {u.pk for u in users}
    pairs = [(cid, uid) for cid, ids in members.items() for uid in ids if uid in user_ids]
    kinds = dict(Channel.objects.filter(pk__in=list(members)).values_list("pk", "kind"))
    big = [(cid, uid) for cid, uid in pairs if kinds[cid] != "direct"]
    bounds = {
        r["channel_id"]: (r["lo"], r["hi"])
        for r in Message.objects.filter(channel_id__in=list(members))
        .values("channel_id")
        .annotate(lo=Min("id"), hi=Max("id"))
        .order_by()
    }
    plans: dict = {}
    results: dict = {}

    def channel_case(rng, i):
        cid, uid = rng.choice(pairs)
        return clients[uid], "get", reverse("chat:channel", args=[cid]), None, {}

    results["channel"] = _run(clients, channel_case, iterations, plans, "channel")

    def older_case(rng, i):
        cid, uid = rng.choice(big)
        lo, hi = bounds.get(cid, (1, 2))
        before = rng.randint(lo, hi)
        return clients[uid], "get", reverse("chat:channel", args=[cid]), {"before": before}, {}

    results["older"] = _run(clients, older_case, iterations, plans, "older")

    def poll_none(rng, i):
        cid, uid = rng.choice(pairs)
        last = Channel.objects.get(pk=cid).last_message_id
        return clients[uid], "get", reverse("chat:poll", args=[cid]), {"after": last}, {}

    results["poll_none"] = _run(clients, poll_none, iterations, plans, "poll_none")

    def poll_new(rng, i):
        cid, uid = rng.choice(pairs)
        last = Channel.objects.get(pk=cid).last_message_id
        data = {"after": max(last - 1, 0)}
        return clients[uid], "get", reverse("chat:poll", args=[cid]), data, {}

    results["poll_new"] = _run(clients, poll_new, iterations, plans, "poll_new")

    def post_case(rng, i):
        cid, uid = rng.choice(pairs)
        last = Channel.objects.get(pk=cid).last_message_id
        data = {
            "body": f"mesaj de test {i} ședință",
            "key": f"bench-{time.time_ns()}-{i}",
            "after": last,
        }
        return (
            clients[uid],
            "post",
            reverse("chat:post", args=[cid]),
            data,
            {"HTTP_HX_REQUEST": "true"},
        )

    results["post"] = _run(clients, post_case, iterations, plans, "post")

    def index_case(rng, i):
        return clients[rng.choice(users).pk], "get", reverse("chat:index"), None, {}

    results["index"] = _run(clients, index_case, iterations, plans, "index")
    results["panel"] = _panel_run(users, iterations)

    for key, words in (
        ("search_common", lambda rng: rng.choice(WORDS[8:30])),
        ("search_rare", lambda rng: rng.choice(RARE_WORDS)),
        ("search_none", lambda rng: NOWHERE),
        ("search_two", lambda rng: f"{rng.choice(WORDS[8:40])} {rng.choice(WORDS[8:40])}"),
    ):

        def search_case(rng, i, words=words):
            q = words(rng)
            return clients[rng.choice(users).pk], "get", reverse("chat:search"), {"q": q}, {}

        results[key] = _run(clients, search_case, iterations, plans, key)

    home = measure_home(clients, users, iterations, plans)
    if home is not None:
        results["home"] = home
    return results, plans


def child(args) -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cetatea.settings")
    # Pages render without a collectstatic manifest (serving static files is the web
    # server's work, not the page's).
    os.environ["CETATEA_PLAIN_STATIC"] = "true"
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    call_command("migrate", interactive=False, verbosity=0, stdout=io.StringIO())
    started = time.perf_counter()
    users = ensure_staff(args.staff, args.departments)
    generated = ensure_messages(users, args.messages, args.seed)
    generated["staff_seconds"] = round(time.perf_counter() - started) - generated["seconds"]
    generated["documents"] = ensure_documents(users, args.documents, args.seed)
    generated["panels"] = ensure_panels(users, args.seed)
    from cetatea.intranet.chat.models import Membership, Message
    from cetatea.intranet.documents.models import Document

    members: dict[int, list[int]] = {}
    for cid, uid in Membership.objects.filter(channel__name__startswith="bench ").values_list(
        "channel_id", "user_id"
    ):
        members.setdefault(cid, []).append(uid)
    rng = random.Random(args.seed)
    sample = rng.sample(users, min(60, len(users)))
    vendor = connection.vendor
    with connection.cursor() as cursor:
        cursor.execute("select sqlite_version()" if vendor == "sqlite" else "show server_version")
        version = cursor.fetchone()[0]
    base = {
        "vendor": vendor,
        "version": version,
        "messages": Message.objects.count(),
        "documents": Document.objects.count(),
        "staff": len(users),
        "generated": generated,
    }
    runs = []
    if vendor == "sqlite":
        with connection.cursor() as c:
            c.execute("SELECT name FROM sqlite_master WHERE name = 'sqlite_stat1'")
            analyzed = c.fetchone() is not None
        if not analyzed:
            results, plans = measure(sample, members, args.iterations)
            runs.append(
                {
                    **base,
                    "label": f"{args.child} (no ANALYZE)",
                    "results": results,
                    "plans": plans,
                    "load": load(),
                }
            )
    with connection.cursor() as c:
        c.execute("ANALYZE")
    label = f"{args.child} (ANALYZE)" if vendor == "sqlite" else args.child
    results, plans = measure(sample, members, args.iterations)
    runs.append({**base, "label": label, "results": results, "plans": plans, "load": load()})
    Path(args.out).write_text(json.dumps(runs, indent=2, ensure_ascii=False, default=str))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--staff", type=int, default=500)
    parser.add_argument("--departments", type=int, default=12)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--documents", type=int, default=100_000)
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
