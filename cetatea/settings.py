"""Cetatea settings.

One settings module that runs with nothing installed (SQLite in WAL mode under ``var/``,
files under ``var/media``, console e-mail, database-backed tasks) and switches to
PostgreSQL, S3 and SMTP through environment variables. Every variable is listed in
``docs/configuration.md``.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def envbool(name: str, default: str) -> bool:
    return os.environ.get(name, default).strip().lower() in ("1", "true", "yes", "on")


def envint(name: str, default: str) -> int:
    return int(os.environ.get(name, default))


def envstr(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def envlist(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


VAR_DIR = Path(envstr("CETATEA_VAR_DIR", str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = envbool("CETATEA_DEBUG", "false")


def dev_secret(name: str, env: str, generate) -> str:
    """A secret from the environment, or one generated once into ``var/`` for development.

    Production sets the variable; the generated file is never committed (var/ is ignored).
    ``manage.py check --deploy`` reports a secret that still comes from ``var/``.
    """
    value = os.environ.get(env)
    if value:
        return value
    path = VAR_DIR / name
    if not path.exists():
        path.write_text(generate())
        path.chmod(0o600)
    DEV_SECRETS_FROM_FILES.append(env)
    return path.read_text().strip()


def _fernet_key() -> str:
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode()


DEV_SECRETS_FROM_FILES: list[str] = []
SECRET_KEY = dev_secret("secret_key", "CETATEA_SECRET_KEY", lambda: secrets.token_urlsafe(50))
# National ids (CNP, CUI) are encrypted with Fernet. Several keys may be given, comma
# separated: the first encrypts, all decrypt (key rotation).
NATIONAL_ID_KEYS = dev_secret("national_id_keys", "CETATEA_NATIONAL_ID_KEYS", _fernet_key).split(
    ","
)
# Keyed hash (HMAC-SHA256) used to find a person by exact national id without decrypting.
NATIONAL_ID_HASH_KEY = dev_secret(
    "national_id_hash_key", "CETATEA_NATIONAL_ID_HASH_KEY", lambda: secrets.token_hex(32)
)

ALLOWED_HOSTS = envlist("CETATEA_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = envlist("CETATEA_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "csp",
    "django_tasks",
    "django_tasks_db",
    "cetatea.core",
    "cetatea.catalog",
    "cetatea.people",
    "cetatea.cases",
    "cetatea.portal",
    "cetatea.open311",
    "cetatea.notify",
    "cetatea.telephony",
    "cetatea.console",
    "cetatea.inbox",
    "cetatea.intake",
    "cetatea.registry",
    "cetatea.revenue",
    "cetatea.intranet",
    "cetatea.intranet.documents",
    "cetatea.intranet.schedules",
    "cetatea.intranet.tasks",
    "cetatea.intranet.chat",
    "cetatea.privacy",
    "cetatea.insights",
    "cetatea.ops",
]

MIDDLEWARE = [
    # First: every later log line carries the request id; the metrics time the rest.
    "cetatea.ops.middleware.RequestIdMiddleware",
    "cetatea.ops.middleware.MetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "cetatea.core.security.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "cetatea.core.locale.RomanianFirstLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # A database outage answers 503, a full disk 507 (cetatea/core/faults.py).
    "cetatea.core.faults.FaultMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "cetatea.urls"
WSGI_APPLICATION = "cetatea.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "cetatea" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------
# DATABASE_URL switches to PostgreSQL (postgres://user@host:5432/name). The embedded
# default is SQLite in WAL mode; IMMEDIATE transactions make concurrent writers queue
# instead of failing with "database is locked" when a reader upgrades to a writer.
DATABASE_URL = envstr("DATABASE_URL")
if DATABASE_URL:
    # Connections are kept for a minute and checked before reuse, so that after a
    # database restart the next request reconnects instead of failing (docs/benchmarks.md).
    DATABASES = {
        "default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)
    }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": envstr("CETATEA_SQLITE_PATH", str(VAR_DIR / "cetatea.sqlite3")),
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": (
                    "PRAGMA journal_mode=WAL;"
                    "PRAGMA synchronous=NORMAL;"
                    "PRAGMA foreign_keys=ON;"
                    "PRAGMA busy_timeout=20000;"
                    # Reads of a big file: 64 MB of page cache per connection, the file
                    # mapped into memory, sorts and groupings in memory.
                    "PRAGMA cache_size=-65536;"
                    "PRAGMA mmap_size=1073741824;"
                    "PRAGMA temp_store=MEMORY;"
                ),
            },
            "TEST": {"NAME": envstr("CETATEA_SQLITE_TEST_PATH", "") or None},
        }
    }
# A streaming replica of the PostgreSQL primary (docs/deploy.md, cetatea/core/dbrouter.py):
# GET requests of a browser that has not written in the last CETATEA_REPLICA_PIN_SECONDS
# read from it; everything else (writes, transactions, workers, commands) uses the primary.
DATABASE_REPLICA_URL = envstr("DATABASE_REPLICA_URL")
CETATEA_REPLICA_PIN_SECONDS = envint("CETATEA_REPLICA_PIN_SECONDS", "15")
if DATABASE_URL and DATABASE_REPLICA_URL:
    DATABASES["replica"] = dj_database_url.parse(
        DATABASE_REPLICA_URL, conn_max_age=60, conn_health_checks=True
    )
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
    DATABASE_ROUTERS = ["cetatea.core.dbrouter.PrimaryReplicaRouter"]
    MIDDLEWARE.insert(0, "cetatea.core.dbrouter.ReplicaMiddleware")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": envstr("REDIS_URL")}
        if envstr("REDIS_URL")
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# --- Background work (Django Tasks API) -------------------------------------------------
TASKS = {
    "default": {
        "BACKEND": envstr("CETATEA_TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
    }
}

# --- Auth ---------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},  # OWASP ASVS 2.1.1
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "people:search"
LOGOUT_REDIRECT_URL = "login"
SESSION_COOKIE_AGE = envint("CETATEA_SESSION_SECONDS", str(8 * 3600))
# Several web machines: "django.contrib.sessions.backends.cached_db" with REDIS_URL set.
SESSION_ENGINE = envstr("CETATEA_SESSION_ENGINE", "django.contrib.sessions.backends.db")
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = envbool("CETATEA_SECURE_COOKIES", "false")
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE

# --- Languages and time -------------------------------------------------------------------
LANGUAGE_CODE = "ro"
LANGUAGES = [("ro", _("Romanian")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "cetatea" / "locale"]
TIME_ZONE = "Europe/Bucharest"
USE_I18N = True
USE_TZ = True

# --- Files ----------------------------------------------------------------------------------
STATIC_URL = "/static/"
# Leaflet comes from its XStatic package (a registry package, no CDN, nothing vendored).
import xstatic.pkg.leaflet  # noqa: E402
import xstatic.pkg.leaflet_markercluster  # noqa: E402

STATICFILES_DIRS = [
    BASE_DIR / "cetatea" / "static",
    ("leaflet", xstatic.pkg.leaflet.BASE_DIR),
    ("leaflet-markercluster", xstatic.pkg.leaflet_markercluster.BASE_DIR),
]
STATIC_ROOT = Path(envstr("CETATEA_STATIC_ROOT", str(VAR_DIR / "static")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise warns when it is missing
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(envstr("CETATEA_MEDIA_ROOT", str(VAR_DIR / "media")))
STORAGES = {
    # Django's, minus the partly written file a full disk leaves (cetatea/core/storage.py).
    "default": {"BACKEND": "cetatea.core.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG or envbool("CETATEA_PLAIN_STATIC", "false")
            else "cetatea.core.staticstorage.StaticFilesStorage"  # WhiteNoise, hashed + gzip
        )
    },
}
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 2000

# --- E-mail ---------------------------------------------------------------------------------
EMAIL_BACKEND = envstr("CETATEA_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = envstr("CETATEA_EMAIL_HOST", "localhost")
EMAIL_PORT = envint("CETATEA_EMAIL_PORT", "25")
EMAIL_HOST_USER = envstr("CETATEA_EMAIL_USER")
EMAIL_HOST_PASSWORD = envstr("CETATEA_EMAIL_PASSWORD")
EMAIL_USE_TLS = envbool("CETATEA_EMAIL_TLS", "false")
DEFAULT_FROM_EMAIL = envstr("CETATEA_FROM_EMAIL", "cetatea@localhost")

# --- Security headers ------------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_HSTS_SECONDS = envint("CETATEA_HSTS_SECONDS", "0")
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if envbool("CETATEA_BEHIND_TLS_PROXY", "false") else None
)
# Behind nginx (deploy/nginx/cetatea.conf) the client's address comes in X-Real-IP; it is
# believed only with a proxy in front (cetatea.core.clientip), for the per-IP rate limits
# (django-ratelimit's key="ip") and the audit records.
CETATEA_TRUSTED_PROXY = envbool("CETATEA_TRUSTED_PROXY", "false") or envbool(
    "CETATEA_BEHIND_TLS_PROXY", "false"
)
RATELIMIT_IP_META_KEY = "cetatea.core.clientip.ratelimit_ip"

# --- Cetatea ---------------------------------------------------------------------------------
# Prefix of public case references, e.g. AB-2026-000123.
CETATEA_CASE_PREFIX = envstr("CETATEA_CASE_PREFIX", "AB")
# Default region for phone numbers written without a country code.
CETATEA_PHONE_REGION = envstr("CETATEA_PHONE_REGION", "RO")
# Page size of staff lists.
CETATEA_PAGE_SIZE = envint("CETATEA_PAGE_SIZE", "25")
# The public address of the site, for links in e-mails and feeds.
CETATEA_SITE_URL = envstr("CETATEA_SITE_URL", "http://127.0.0.1:8000")
# How long an e-mailed confirmation link (report, subscription) stays valid, in seconds.
CETATEA_CONFIRM_MAX_AGE = envint("CETATEA_CONFIRM_MAX_AGE", str(7 * 24 * 3600))
# Days after closure during which the reporter can say "still not fixed" and reopen.
CETATEA_REOPEN_DAYS = envint("CETATEA_REOPEN_DAYS", "28")
# The registry's deadline digest (manage.py registry_alerts) names open entries whose
# term ends within this many days, and those past it.
CETATEA_REGISTRY_ALERT_DAYS = envint("CETATEA_REGISTRY_ALERT_DAYS", "3")
# Map tiles: URL template and attribution (OpenStreetMap by default; a city may run its own).
CETATEA_TILE_URL = envstr("CETATEA_TILE_URL", "https://tile.openstreetmap.org/{z}/{x}/{y}.png")
CETATEA_TILE_ATTRIBUTION = envstr(
    "CETATEA_TILE_ATTRIBUTION",
    '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a>',
)
# Content-Security-Policy (django-csp; docs/security.md): no inline script or style
# anywhere; images from this site, data: URIs (Leaflet) and the tile server's origin.
_tiles = urlsplit(CETATEA_TILE_URL)
CETATEA_TILE_ORIGIN = (
    f"{_tiles.scheme}://{_tiles.netloc.replace('{s}', '*')}" if _tiles.netloc else ""
)
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"] + ([CETATEA_TILE_ORIGIN] if CETATEA_TILE_ORIGIN else []),
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}
# Centre and zoom of the map when it opens.
CETATEA_MAP_CENTER = [float(v) for v in envlist("CETATEA_MAP_CENTER", "46.0714,23.5731")]
CETATEA_MAP_ZOOM = envint("CETATEA_MAP_ZOOM", "14")

# Logs (docs/operations.md): JSON lines on stdout (or plain text), with the request id,
# route and user id, personal data (CNP, e-mail, phone, IBAN) scrubbed from every record.
CETATEA_LOG_FORMAT = envstr("CETATEA_LOG_FORMAT", "text" if DEBUG else "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "context": {"()": "cetatea.ops.logs.RequestContextFilter"},
        "scrub": {"()": "cetatea.ops.logs.ScrubPersonalDataFilter"},
    },
    "formatters": {
        "json": {"()": "cetatea.ops.logs.JsonFormatter"},
        "text": {"()": "cetatea.ops.logs.TextFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "filters": ["context", "scrub"],
            "formatter": "json" if CETATEA_LOG_FORMAT == "json" else "text",
        }
    },
    "root": {"handlers": ["console"], "level": envstr("CETATEA_LOG_LEVEL", "INFO")},
    # Django's own request logger repeats what the access line says (with the raw path).
    "loggers": {"django.request": {"level": "ERROR"}},
}

# --- Operations (cetatea.ops, docs/operations.md) ------------------------------------------------
# /metrics answers these addresses (comma separated; networks allowed, e.g. 10.0.0.0/8)
# and any client with "Authorization: Bearer <CETATEA_METRICS_TOKEN>"; others get a 404.
CETATEA_METRICS_ALLOW = envlist("CETATEA_METRICS_ALLOW", "127.0.0.1,::1")
CETATEA_METRICS_TOKEN = envstr("CETATEA_METRICS_TOKEN")
# /healthz warns when the oldest ready background task has waited longer than this.
CETATEA_HEALTH_QUEUE_WARN_SECONDS = envint("CETATEA_HEALTH_QUEUE_WARN_SECONDS", "600")
# manage.py backup: where archives go and how many are kept.
CETATEA_BACKUP_DIR = Path(envstr("CETATEA_BACKUP_DIR", str(VAR_DIR / "backups")))
CETATEA_BACKUP_KEEP = envint("CETATEA_BACKUP_KEEP", "7")

# --- Photos of cases (cetatea.cases.photos) --------------------------------------------------
# Limits for one uploaded photo and per case; a bigger file or image is refused.
CETATEA_PHOTO_MAX_BYTES = envint("CETATEA_PHOTO_MAX_BYTES", str(15 * 1024 * 1024))
CETATEA_PHOTO_MAX_PIXELS = envint("CETATEA_PHOTO_MAX_PIXELS", str(50_000_000))
CETATEA_PHOTOS_PER_CASE = envint("CETATEA_PHOTOS_PER_CASE", "5")
# Originals (with their EXIF: GPS, camera, faces before redaction) are kept in a private
# storage that is never served; only the processed copies go to MEDIA_ROOT. A deployment
# on object storage points this alias at a private bucket.
CETATEA_PRIVATE_MEDIA_ROOT = Path(envstr("CETATEA_PRIVATE_MEDIA_ROOT", str(VAR_DIR / "private")))
STORAGES["private"] = {
    "BACKEND": "cetatea.core.storage.FileSystemStorage",
    "OPTIONS": {
        "location": CETATEA_PRIVATE_MEDIA_ROOT,
        "file_permissions_mode": 0o600,
        "directory_permissions_mode": 0o700,
    },
}
# Object storage (S3 API, django-storages; docs/deploy.md): processed photos and other
# public media in CETATEA_S3_BUCKET (readable by anyone: plain URLs), originals and staff
# files in CETATEA_S3_PRIVATE_BUCKET (no public ACL, short-lived signed URLs only).
CETATEA_S3_BUCKET = envstr("CETATEA_S3_BUCKET")
if CETATEA_S3_BUCKET:
    _s3 = {
        "endpoint_url": envstr("CETATEA_S3_ENDPOINT_URL") or None,
        "access_key": envstr("CETATEA_S3_ACCESS_KEY") or None,
        "secret_key": envstr("CETATEA_S3_SECRET_KEY") or None,
        "region_name": envstr("CETATEA_S3_REGION") or None,
        "file_overwrite": False,
        "default_acl": None,  # the bucket's policy decides, not a per-object ACL
    }
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            **_s3,
            "bucket_name": CETATEA_S3_BUCKET,
            "querystring_auth": False,
            "custom_domain": envstr("CETATEA_S3_CUSTOM_DOMAIN") or None,
        },
    }
    STORAGES["private"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            **_s3,
            "bucket_name": envstr("CETATEA_S3_PRIVATE_BUCKET", f"{CETATEA_S3_BUCKET}-private"),
            "querystring_auth": True,
            "querystring_expire": envint("CETATEA_S3_SIGNED_URL_SECONDS", "300"),
        },
    }

# Open311 GeoReport v2 (docs/open311.md)
# The same POST from the same client within this many seconds files no second case.
CETATEA_OPEN311_REPEAT_SECONDS = envint("CETATEA_OPEN311_REPEAT_SECONDS", "600")
CETATEA_OPEN311_CONTACT = envstr(
    "CETATEA_OPEN311_CONTACT", "Primăria Municipiului Alba Iulia, relatii.publice@localhost"
)
CETATEA_OPEN311_KEY_SERVICE = envstr(
    "CETATEA_OPEN311_KEY_SERVICE", "Ask the city hall's IT service for an api_key."
)
CETATEA_OPEN311_ENDPOINT_TYPE = envstr("CETATEA_OPEN311_ENDPOINT_TYPE", "production")

# Call centre (docs/telephony.md): the token in the PBX's CTI URL, /api/v1/cti/<token>.
# Empty (the default) turns the endpoint off: every event is refused.
CETATEA_CTI_TOKEN = envstr("CETATEA_CTI_TOKEN")
# The phone robot's TwiML-style callback, /api/v1/robot/<token>; empty turns it off.
CETATEA_ROBOT_TOKEN = envstr("CETATEA_ROBOT_TOKEN")

# Notifications to citizens (cetatea.notify, docs/notifications.md): e-mail through the
# EMAIL_* settings above, SMS through a gateway backend chosen by dotted path.
CETATEA_SMS_BACKEND = envstr("CETATEA_SMS_BACKEND", "cetatea.notify.sms.LoggingBackend")
CETATEA_SMS_FROM = envstr("CETATEA_SMS_FROM")
CETATEA_SMS_TIMEOUT = envint("CETATEA_SMS_TIMEOUT", "10")
CETATEA_TWILIO_ACCOUNT_SID = envstr("CETATEA_TWILIO_ACCOUNT_SID")
CETATEA_TWILIO_AUTH_TOKEN = envstr("CETATEA_TWILIO_AUTH_TOKEN")
CETATEA_TWILIO_BASE_URL = envstr("CETATEA_TWILIO_BASE_URL", "https://api.twilio.com")
# A message is tried this many times, the n-th retry after RETRY_SECONDS * 4^(n-1).
CETATEA_NOTIFY_MAX_ATTEMPTS = envint("CETATEA_NOTIFY_MAX_ATTEMPTS", "5")
CETATEA_NOTIFY_RETRY_SECONDS = envint("CETATEA_NOTIFY_RETRY_SECONDS", "60")

# --- E-mail in (cetatea.inbox, docs/email.md) -------------------------------------------------
# The mailbox ``manage.py fetch_mail`` reads; empty host: not configured.
CETATEA_IMAP_HOST = envstr("CETATEA_IMAP_HOST")
CETATEA_IMAP_SSL = envbool("CETATEA_IMAP_SSL", "true")
CETATEA_IMAP_PORT = envint("CETATEA_IMAP_PORT", "993" if CETATEA_IMAP_SSL else "143")
CETATEA_IMAP_USER = envstr("CETATEA_IMAP_USER")
CETATEA_IMAP_PASSWORD = envstr("CETATEA_IMAP_PASSWORD")
CETATEA_IMAP_FOLDER = envstr("CETATEA_IMAP_FOLDER", "INBOX")
# After a message is stored: "seen" (mark read), "move" (to CETATEA_IMAP_MOVE_TO), "delete".
CETATEA_IMAP_AFTER = envstr("CETATEA_IMAP_AFTER", "seen")
CETATEA_IMAP_MOVE_TO = envstr("CETATEA_IMAP_MOVE_TO", "Processed")
CETATEA_IMAP_BATCH = envint("CETATEA_IMAP_BATCH", "200")
# Category of a case opened by an e-mail (a catalogue code), and the largest message taken.
CETATEA_INBOX_CATEGORY = envstr("CETATEA_INBOX_CATEGORY", "OTHER")
CETATEA_INBOX_MAX_BYTES = envint("CETATEA_INBOX_MAX_BYTES", str(64 * 1024 * 1024))

# --- Registry documents (cetatea.registry.pdf, docs/registry.md) -------------------------------
# The institution named on receipts, registers and reports.
CETATEA_INSTITUTION_NAME = envstr("CETATEA_INSTITUTION_NAME", "Primăria Municipiului Alba Iulia")
# A phone line where citizens can ask about a registered document (empty: not printed).
CETATEA_STATUS_PHONE = envstr("CETATEA_STATUS_PHONE")
# Folder with DejaVuSans.ttf and DejaVuSans-Bold.ttf (Unicode: ș ț ă â î); Debian's
# fonts-dejavu-core installs them here.
CETATEA_PDF_FONT_DIR = envstr("CETATEA_PDF_FONT_DIR", "/usr/share/fonts/truetype/dejavu")

# --- Privacy: retention terms in days, applied by `manage.py apply_retention` (0: keep) ---
# (docs/privacy.md). The phone robot's dialog state and caller hashes, and its attempts.
CETATEA_RETENTION_ROBOT_CALL_DAYS = envint("CETATEA_RETENTION_ROBOT_CALL_DAYS", "90")
# Contact details of anonymous/unregistered reporters, counted from the case's closing.
CETATEA_RETENTION_REPORTER_CONTACT_DAYS = envint("CETATEA_RETENTION_REPORTER_CONTACT_DAYS", "365")
# The sender, name and subject in the log of inbound e-mail (the case keeps its text).
CETATEA_RETENTION_INBOUND_EMAIL_DAYS = envint("CETATEA_RETENTION_INBOUND_EMAIL_DAYS", "180")
# The sign-in log (accounts.SignIn), when that app is installed.
CETATEA_RETENTION_SIGN_IN_DAYS = envint("CETATEA_RETENTION_SIGN_IN_DAYS", "365")
# The audit log viewer's CSV export: at most this many rows per file.
CETATEA_AUDIT_EXPORT_MAX_ROWS = envint("CETATEA_AUDIT_EXPORT_MAX_ROWS", "50000")

# --- Phone robot: prompt audio and the SIP endpoint (cetatea.telephony.robot) ------------------
# Rendered prompts are cached here (cache/), and recorded prompts are read from here
# (recorded/<language>/<prompt key>.wav), replacing the synthesised voice.
CETATEA_ROBOT_PROMPT_DIR = Path(envstr("CETATEA_ROBOT_PROMPT_DIR", str(VAR_DIR / "robot-prompts")))
# FastAGI (docs/phone-robot-agi.md): the Asterisk application and its arguments that hand a
# caller to the operators, comma-separated; ``{queue}`` is replaced by the flow's queue.
CETATEA_ROBOT_AGI_TRANSFER = envstr("CETATEA_ROBOT_AGI_TRANSFER", "Queue,operators")
# Where the SIP endpoint REFERs a caller who asks for an operator ({queue} is replaced),
# e.g. sip:{queue}@pbx.primarie.local; empty: no transfer, the caller hears a number to call.
CETATEA_ROBOT_SIP_TRANSFER_URI = envstr("CETATEA_ROBOT_SIP_TRANSFER_URI")

# --- Staff intranet (cetatea.intranet, docs/intranet.md) ---------------------------------------
# Largest file attached to an intranet task.
CETATEA_TASK_ATTACHMENT_MAX_BYTES = envint(
    "CETATEA_TASK_ATTACHMENT_MAX_BYTES", str(20 * 1024 * 1024)
)
# Schedules (docs/intranet-schedules.md): whether an accepted swap moves the shift without a
# planner's approval, and how far back and ahead the iCalendar feeds go.
CETATEA_SCHEDULES_AUTO_APPROVE_SWAPS = envbool("CETATEA_SCHEDULES_AUTO_APPROVE_SWAPS", "false")
CETATEA_SCHEDULES_FEED_PAST_DAYS = envint("CETATEA_SCHEDULES_FEED_PAST_DAYS", "30")
CETATEA_SCHEDULES_FEED_FUTURE_DAYS = envint("CETATEA_SCHEDULES_FEED_FUTURE_DAYS", "180")
# Documents (docs/intranet-documents.md): the largest file stored (match the web server's
# body limit), and how long a check-out lock stays valid.
CETATEA_INTRANET_MAX_UPLOAD_BYTES = envint(
    "CETATEA_INTRANET_MAX_UPLOAD_BYTES", str(25 * 1024 * 1024)
)
CETATEA_INTRANET_LOCK_SECONDS = envint("CETATEA_INTRANET_LOCK_SECONDS", "7200")
# Messages (docs/intranet-messages.md): how long an author may edit or delete a message,
# the largest attached file, and the staff interface's address in e-mails (empty: the
# site's address).
CETATEA_CHAT_EDIT_MINUTES = envint("CETATEA_CHAT_EDIT_MINUTES", "15")
CETATEA_CHAT_MAX_FILE_BYTES = envint("CETATEA_CHAT_MAX_FILE_BYTES", str(20 * 1024 * 1024))
CETATEA_STAFF_URL = envstr("CETATEA_STAFF_URL", "")

# Open data (cetatea/insights/opendata.py): the licence named on /transparenta/ and in
# metadata.json, and how many months of cases the anonymised files hold.
CETATEA_OPEN_DATA_LICENSE = envstr("CETATEA_OPEN_DATA_LICENSE", "CC BY 4.0")
CETATEA_OPEN_DATA_MONTHS = envint("CETATEA_OPEN_DATA_MONTHS", "24")


# --- Staff account security (cetatea.accounts, docs/security.md) -----------------------------
# Two-factor authentication (django-otp: TOTP apps and one-time recovery codes) is required
# for every account whose role sees personal data (cetatea.accounts.policy.requires_2fa).
CETATEA_2FA_REQUIRED = envbool("CETATEA_2FA_REQUIRED", "true")
# A staff session unused this long is signed out (the absolute limit is SESSION_COOKIE_AGE).
CETATEA_SESSION_IDLE_SECONDS = envint("CETATEA_SESSION_IDLE_SECONDS", "1800")
SESSION_COOKIE_SAMESITE = "Lax"
INSTALLED_APPS += [
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "cetatea.accounts",
]
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.contrib.auth.middleware.AuthenticationMiddleware") + 1,
    "django_otp.middleware.OTPMiddleware",
)
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.contrib.messages.middleware.MessageMiddleware") + 1,
    "cetatea.accounts.middleware.IdleTimeoutMiddleware",
)
MIDDLEWARE.insert(
    MIDDLEWARE.index("cetatea.accounts.middleware.IdleTimeoutMiddleware") + 1,
    "cetatea.accounts.middleware.TwoFactorMiddleware",
)
MIDDLEWARE.append("axes.middleware.AxesMiddleware")  # last, as django-axes asks
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses a locked-out account
    "django.contrib.auth.backends.ModelBackend",
]
OTP_TOTP_ISSUER = "Cetatea"
# django-axes: after this many failed sign-ins of one account from one address, that
# account is refused from that address for the cool-off time (a right password too).
AXES_FAILURE_LIMIT = envint("CETATEA_LOGIN_FAILURE_LIMIT", "5")
AXES_COOLOFF_TIME = dt.timedelta(minutes=envint("CETATEA_LOGIN_COOLOFF_MINUTES", "15"))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# Attempts during the lock do not extend it: it ends COOLOFF after the last counted failure.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "cetatea.accounts.views.lockout_response"
AXES_CLIENT_IP_CALLABLE = "cetatea.core.clientip.client_ip"
AXES_VERBOSE = False
# The sign-in log is cetatea.accounts.SignIn; axes keeps only its failure counters.
AXES_DISABLE_ACCESS_LOG = True
