"""
Settings for the tracker, read from environment variables.

Zero configuration gives a local development site on a SQLite file in the project folder.
Every variable is checked: a malformed value stops start-up with a message naming it.

    DATABASE_URL          e.g. postgres://user:password@host:5432/name (default: sqlite)
    DJANGO_SECRET_KEY     required when DJANGO_DEBUG is off
    DJANGO_DEBUG          true/false, 1/0, yes/no, on/off (default: true)
    DJANGO_ALLOWED_HOSTS  comma-separated host names; required when DJANGO_DEBUG is off
    RESPONSE_CACHE        true/false: keep rendered pages and API answers (default: true)
    DJANGO_BEHIND_TLS_PROXY  true/false: trust X-Forwarded-Proto from the proxy in front
                          (default: false); see docs/reliability.md
    DATABASE_REPLICA_URL  a read replica of the DATABASE_URL PostgreSQL database, e.g.
                          postgres://user:password@replica-host:5432/name (default: none).
                          Anonymous GET and HEAD requests (pages, the API) read from it;
                          writes, staff (a session cookie), the admin and transactions use
                          DATABASE_URL. Unreachable, it is skipped (tracker/db_router.py).
                          The two settings below apply to both databases.
    DATABASE_CONNECT_TIMEOUT        seconds to wait for PostgreSQL to answer (default: 5)
    DATABASE_WEB_STATEMENT_TIMEOUT  longest query a web request may run, in milliseconds
                          (default: 10000; PostgreSQL only; management commands are not bound)
    REDIS_URL             e.g. redis://127.0.0.1:6379/0: the cache every worker and instance
                          shares (kept answers, API rate limits); default: none, each worker
                          keeps its own in memory. See the README, "Deploying several instances"
    CACHE_KEY_PREFIX      starts every key in Redis, so that deployments sharing one Redis
                          keep apart (default: a digest of the database's host, port and name)
    API_ANON_RATE         anonymous API requests allowed per client address, e.g. 120/minute
                          (the default) or 5000/day
    API_NUM_PROXIES       how many proxies in front append to X-Forwarded-For (default: 0)

With DJANGO_DEBUG off the site runs in production mode: HTTPS only (redirects, HSTS, secure
cookies) and the checks of `manage.py check --deploy` pass.
"""

import datetime
import hashlib
import os
import re
import urllib.parse
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

_TRUE = {"1", "true", "yes", "on"}
# A host name, a leading-dot domain pattern, "*", or a bracketed IPv6 address; no scheme/path.
_HOST = re.compile(r"^(\*|\.?[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.?|\[[0-9A-Fa-f:.]+\])$")
_FALSE = {"0", "false", "no", "off"}


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(
        f"{name}={raw!r} is not a boolean; use one of: {', '.join(sorted(_TRUE | _FALSE))}."
    )


def env_hosts(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    items = [item.strip() for item in raw.split(",")]
    if any(not _HOST.match(item) for item in items):
        raise ImproperlyConfigured(
            f"{name}={raw!r} is malformed; give comma-separated host names without scheme "
            "or path, "
            "e.g. 'tracker.example.org,www.tracker.example.org'."
        )
    return items


def _redacted(url: str) -> str:
    """The URL without its password, for error messages."""
    return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", url)


def env_int(name: str, default: int, minimum: int = 0) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = None
    if value is None or value < minimum:
        raise ImproperlyConfigured(f"{name}={raw!r} must be a whole number of at least {minimum}.")
    return value


def env_redis(name: str) -> str:
    """A Redis URL (redis://, rediss:// or unix://), or "" when unset."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return ""
    shown = _redacted(raw)
    scheme, _, rest = raw.partition("://")
    if scheme not in ("redis", "rediss", "unix") or not rest or not rest.strip("/"):
        raise ImproperlyConfigured(
            f"{name}={shown!r} is not a Redis URL; use redis://HOST:PORT/DB, "
            "rediss://HOST:PORT/DB (TLS) or unix:///PATH/TO/SOCKET."
        )
    try:
        parts = urllib.parse.urlsplit(raw)
        port = parts.port
        database = parts.path.strip("/") or "0"
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name}={shown!r} is malformed: {exc}") from exc
    if scheme != "unix" and (not parts.hostname or port == 0 or not database.isdigit()):
        raise ImproperlyConfigured(
            f"{name}={shown!r} is malformed; give a host, a port from 1 to 65535 and a "
            "database number, e.g. redis://127.0.0.1:6379/0."
        )
    return raw


POSTGRESQL_ENGINE = "tracker.postgresql"


def env_database(name: str, default: str) -> dict:
    raw = os.environ.get(name, "").strip() or default
    shown = _redacted(raw)
    supported = ("sqlite", "postgres", "postgresql", "pgsql")
    scheme = raw.split("://", 1)[0] if "://" in raw else ""
    if scheme not in supported:
        raise ImproperlyConfigured(
            f"{name}={shown!r} is not a supported database URL; use "
            "postgres://USER:PASSWORD@HOST:PORT/NAME or sqlite:///PATH."
        )
    try:
        config = dj_database_url.parse(raw, conn_max_age=0 if scheme == "sqlite" else 60)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name}={shown!r} is malformed: {exc}") from exc
    if str(config.get("NAME") or "") in ("", ":memory:", "/"):
        raise ImproperlyConfigured(f"{name}={shown!r} names no database.")
    if config["ENGINE"] == "django.db.backends.postgresql":
        # Django's, with a health check that asks the server only when its socket says it
        # may have closed the connection (tracker/postgresql/base.py).
        config["ENGINE"] = POSTGRESQL_ENGINE
        config["CONN_HEALTH_CHECKS"] = True
        # The product's queries are short: compiling them (PostgreSQL's JIT, for plans it
        # guesses are costly) took longer than running them.
        options = config.setdefault("OPTIONS", {})
        flags = f"{options.get('options', '')} -c jit=off"
        # A web request never waits long for a query: tracker/wsgi.py marks the process as a
        # web server, and its connections stop any statement that runs longer than this
        # (the request then answers 503). Imports and other commands run unbounded.
        if os.environ.get("TRACKER_WEB_PROCESS") == "1":
            timeout = env_int("DATABASE_WEB_STATEMENT_TIMEOUT", 10_000, minimum=1)
            flags += f" -c statement_timeout={timeout}"
            # Nor does it start parallel workers: launching them took longer than the
            # short queries they would share (about 25 ms for the hub's co-signers at 1M),
            # and a busy web server has no idle cores to give them.
            flags += " -c max_parallel_workers_per_gather=0"
        options["options"] = flags.strip()
        # When PostgreSQL is unreachable a request fails within seconds instead of hanging:
        # connecting gives up after DATABASE_CONNECT_TIMEOUT, and a connection whose server
        # vanished without closing it (a host powered off, a network cut) is found dead by TCP
        # keepalives and tcp_user_timeout within about ten seconds, not the kernel's minutes.
        options.setdefault("connect_timeout", env_int("DATABASE_CONNECT_TIMEOUT", 5, minimum=1))
        options.setdefault("keepalives", 1)
        options.setdefault("keepalives_idle", 5)
        options.setdefault("keepalives_interval", 2)
        options.setdefault("keepalives_count", 3)
        options.setdefault("tcp_user_timeout", 10_000)
    elif config["ENGINE"] == "django.db.backends.sqlite3":
        # SQLite runs one writing transaction at a time: each takes the write lock when it
        # begins, so that a second writer waits for it (up to `timeout` seconds) instead of
        # failing midway when a read lock cannot become a write lock.
        options = config.setdefault("OPTIONS", {})
        options.setdefault("transaction_mode", "IMMEDIATE")
        options.setdefault("timeout", 20)
    return config


DEBUG = env_bool("DJANGO_DEBUG", default=True)

_DEV_SECRET_KEY = "django-insecure-development-key-do-not-use-in-production"
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "").strip()
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off.")
    SECRET_KEY = _DEV_SECRET_KEY
elif not DEBUG and (SECRET_KEY == _DEV_SECRET_KEY or len(SECRET_KEY) < 32):
    raise ImproperlyConfigured(
        "DJANGO_SECRET_KEY is too weak for production: use at least 32 random characters."
    )

ALLOWED_HOSTS = env_hosts(
    "DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"] if DEBUG else []
)
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("DJANGO_ALLOWED_HOSTS must be set when DJANGO_DEBUG is off.")

DATABASES = {
    "default": env_database("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")
}
# A read replica of the primary (PostgreSQL streaming replication) takes the anonymous public
# reads; writes, staff and transactions stay on the primary (tracker.db_router). The suite's
# own tests use the primary's test database for it.
if os.environ.get("DATABASE_REPLICA_URL", "").strip():
    DATABASES["replica"] = env_database("DATABASE_REPLICA_URL", default="")
    if {DATABASES["default"]["ENGINE"], DATABASES["replica"]["ENGINE"]} != {POSTGRESQL_ENGINE}:
        raise ImproperlyConfigured(
            "DATABASE_REPLICA_URL names a replica of a PostgreSQL primary: both it and "
            "DATABASE_URL must be postgres:// URLs."
        )
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
DATABASE_ROUTERS = ["tracker.db_router.PrimaryReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "csp",
    "axes",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "organizations",
    "statements",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Outside everything that can answer early or fail (a NUL byte refused, the database gone
    # while a session is saved), so that every answer carries the policy headers.
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "tracker.middleware.RejectNulBytesMiddleware",
    "tracker.middleware.RejectForeignScriptPrefixMiddleware",
    # Before anything reads data: marks an anonymous GET as a read the replica may answer.
    "tracker.db_router.PublicReadMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Records the signed-in user on every history entry a request makes.
    "simple_history.middleware.HistoryRequestMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Turns an admin login lockout into a 429 page (django-axes); last but the cache.
    "axes.middleware.AxesMiddleware",
    # An ETag on every page, and 304 Not Modified when the client already has it.
    "django.middleware.http.ConditionalGetMiddleware",
    # Innermost, so that every header above is set on a kept page as on a fresh one.
    "tracker.response_cache.PublicPageCacheMiddleware",
]

ROOT_URLCONF = "tracker.urls"
WSGI_APPLICATION = "tracker.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "tracker" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

AUTHENTICATION_BACKENDS = [
    # Counts failed staff logins and refuses further attempts once locked out.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "tracker" / "static"]
# Static files are served by the app itself (whitenoise), compressed; no CDN. Without a
# collectstatic run (development, tests) they are served straight from the apps.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = not STATIC_ROOT.exists()


# Static files are answered before the middleware that sets the policy headers: give them
# their own (nothing there needs to run anything or be framed).
def _static_file_headers(headers, path: str, url: str) -> None:
    headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'"
    )
    headers["X-Frame-Options"] = "DENY"


WHITENOISE_ADD_HEADERS_FUNCTION = _static_file_headers
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("DJANGO_MEDIA_ROOT", "").strip() or BASE_DIR / "media")

# Uploaded statement documents are refused above this size (see Statement.document).
MAX_DOCUMENT_SIZE = 20 * 1024 * 1024

# Partner API. Anonymous clients are rate-limited; partners get a token from staff (admin:
# Auth Token > Tokens) which lifts the limit. The limit is counted in the `default` cache:
# per worker without REDIS_URL, across every worker and instance with it.
API_ANON_RATE = os.environ.get("API_ANON_RATE", "").strip() or "120/minute"
if not re.fullmatch(r"\d+/(s|sec|second|m|min|minute|h|hour|d|day)", API_ANON_RATE):
    raise ImproperlyConfigured(
        f"API_ANON_RATE={API_ANON_RATE!r} is malformed; use e.g. 120/minute or 5000/day."
    )

# How many proxies in front of the app append to X-Forwarded-For; 0 (the default) means the
# header is ignored and the client is the connecting address, so it cannot be spoofed to
# escape the rate limit.
try:
    API_NUM_PROXIES = int(os.environ.get("API_NUM_PROXIES", "").strip() or 0)
except ValueError:
    raise ImproperlyConfigured("API_NUM_PROXIES must be a whole number, e.g. 1.") from None

REST_FRAMEWORK = {
    "NUM_PROXIES": API_NUM_PROXIES,
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "tracker.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
    "DEFAULT_FILTER_BACKENDS": ["tracker.filtering.FilterBackend"],
    "DEFAULT_THROTTLE_CLASSES": ["tracker.throttling.AnonRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"anon": API_ANON_RATE},
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DATE_FORMAT": "iso-8601",
    "UNAUTHENTICATED_USER": None,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Coalition statement tracker API",
    "DESCRIPTION": (
        "Read-only data on advocacy statements and the organisations that sign them: "
        "who co-signed which positions, and when. Anonymous use is rate-limited; send "
        "`Authorization: Token <key>` with a partner token to lift the limit. Every list "
        "takes `?format=csv`."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "tracker.api.document_errors_and_csv",
        "tracker.api.document_query_rules",
    ],
    "ENUM_NAME_OVERRIDES": {
        "OrganizationKindEnum": "organizations.models.Organization.Kind",
        "StatementKindEnum": "statements.models.Statement.Kind",
        "CoverageKindEnum": "statements.models.CoverageLink.Kind",
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}

# An organisation that signed this many public statements has its co-signers kept in the
# co-signing table (organizations.Cosigning) rather than aggregated on each request; it
# leaves the table when it falls under half as many.
COSIGNERS_KEPT_FROM = 500

# Public pages and API answers are kept until a change in the change log touches what they
# show (tracker.response_cache);
# RESPONSE_CACHE=0 turns that off (to measure the uncached cost). Kept answers (`responses`)
# and the API's rate-limit counts (`default`) are in Redis when REDIS_URL is set, shared by
# every worker of every instance; else in each worker's memory. Redis failing fails no
# request (tracker.cache): kept answers are then built afresh, and the rate limit is counted
# in each worker's memory until Redis answers again.
RESPONSE_CACHE = env_bool("RESPONSE_CACHE", default=True)
REDIS_URL = env_redis("REDIS_URL")
# Every key starts with this, so that two deployments sharing one Redis never read each
# other's: by default a digest of the database's address (host, port and name, not the
# credentials), which the instances of one deployment share.
CACHE_KEY_PREFIX = (
    os.environ.get("CACHE_KEY_PREFIX", "").strip()
    or "tracker-"
    + (
        hashlib.sha256(
            "|".join(
                str(DATABASES["default"].get(part) or "") for part in ("HOST", "PORT", "NAME")
            ).encode()
        ).hexdigest()[:12]
    )
)
if not re.fullmatch(r"[A-Za-z0-9_.:-]{1,100}", CACHE_KEY_PREFIX):
    raise ImproperlyConfigured(
        f"CACHE_KEY_PREFIX={CACHE_KEY_PREFIX!r} is malformed; use up to 100 letters, digits "
        "and . _ : -"
    )
# Raised when what a kept answer holds changes shape, so that old and new code running side
# by side during a deploy never read each other's entries.
RESPONSES_CACHE_VERSION = 1
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "tracker.cache.ResilientRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": CACHE_KEY_PREFIX,
            # While Redis is unavailable the rate limit is counted in each worker's memory.
            "OPTIONS": {"LOCAL_FALLBACK": True, "MAX_ENTRIES": 10_000},
        },
        "responses": {
            "BACKEND": "tracker.cache.ResilientRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": f"{CACHE_KEY_PREFIX}:responses",
            "VERSION": RESPONSES_CACHE_VERSION,
            "TIMEOUT": 3600,
        },
    }
else:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "responses": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "responses",
            "TIMEOUT": 3600,
            "OPTIONS": {"MAX_ENTRIES": 300},
        },
    }

# --- Security -------------------------------------------------------------------------------

# Every response says where its content may come from. The pages use no inline script or
# style and load nothing from other sites; the API's interactive docs are the one exception
# (tracker.urls).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True

if not DEBUG:
    SECURE_SSL_REDIRECT = True
    SECURE_REDIRECT_EXEMPT = [r"^health/$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = 365 * 24 * 3600
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
# Behind a proxy that terminates TLS, the proxy says which scheme the client used. Only set
# this when the proxy always sets (or strips) X-Forwarded-Proto: otherwise clients could claim
# HTTPS themselves.
if env_bool("DJANGO_BEHIND_TLS_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Staff logins (django-axes): after 5 failed attempts for one user name from one address,
# that pair is refused for 15 minutes, even with the right password; a success resets the
# count. Attempts are kept in the database, so every worker sees them.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = datetime.timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# A locked pair stays locked for the cool-off from its last counted failure; further attempts
# during the lock do not extend it (else one guess every 14 minutes would lock a user out
# for good).
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# The client address is found as for the API's rate limit (API_NUM_PROXIES).
AXES_CLIENT_IP_CALLABLE = "tracker.security.client_ip"
AXES_VERBOSE = False
