"""Carekit settings. Everything a deployment changes comes from environment variables (see README)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


CAREKIT_ENV = env("CAREKIT_ENV", "dev")  # dev | test | prod
if CAREKIT_ENV not in {"dev", "test", "prod"}:
    raise ImproperlyConfigured(f"CAREKIT_ENV must be dev, test or prod, not {CAREKIT_ENV!r}")
TESTING = CAREKIT_ENV == "test" or "pytest" in sys.modules

VAR_DIR = Path(env("CAREKIT_VAR_DIR", str(BASE_DIR / "var"))).resolve()
VAR_DIR.mkdir(parents=True, exist_ok=True)

_INSECURE_KEY = "carekit-insecure-development-key-do-not-use-in-production"
SECRET_KEY = env("SECRET_KEY", _INSECURE_KEY)
DEBUG = env_bool("DEBUG", CAREKIT_ENV == "dev")

if CAREKIT_ENV == "prod":
    if SECRET_KEY == _INSECURE_KEY or len(SECRET_KEY) < 32:
        raise ImproperlyConfigured(
            "Production mode needs SECRET_KEY: a random value of at least 32 characters."
        )
    if DEBUG:
        raise ImproperlyConfigured("Production mode refuses to start with DEBUG on.")

ALLOWED_HOSTS = [h.strip() for h in env("ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h.strip()]
if TESTING:
    ALLOWED_HOSTS.append("testserver")
CSRF_TRUSTED_ORIGINS = [o.strip() for o in env("CSRF_TRUSTED_ORIGINS").split(",") if o.strip()]
SITE_URL = env("SITE_URL", "http://127.0.0.1:8000")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "ninja",
    "carekit.core",
    "carekit.accounts",
    "carekit.core.realtime",
    "carekit.core.webhooks",
    "carekit.core.ops",
    "carekit.ui",
    "carekit.demo",
    "carekit.customers",
    "carekit.portal",
    "carekit.loyalty",
    "carekit.knowledge",
    "carekit.bot",
    "carekit.conversations",
    "carekit.channels",
    "carekit.scenarios",
]
if TESTING or env_bool("CAREKIT_PROBES"):
    INSTALLED_APPS.append("carekit.core.probe")

MIDDLEWARE = [
    "carekit.core.metrics.MetricsMiddleware",
    "carekit.core.middleware.ApiBodyLimitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
ASGI_APPLICATION = "config.asgi.application"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "carekit.ui.shell.context",
            ],
        },
    },
]

# --- database -------------------------------------------------------------------------------------
# SQLite is the embedded default; these options are the ones measured clean under concurrent writers
# (ARCHITECTURE.md section 7).
SQLITE_OPTIONS = {
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA secure_delete=ON;",
}
DATABASE_URL = env("DATABASE_URL", f"sqlite:///{VAR_DIR / 'carekit.sqlite3'}")
_db = dj_database_url.parse(DATABASE_URL, conn_max_age=int(env("DB_CONN_MAX_AGE", "60")))
if _db["ENGINE"] == "django.db.backends.sqlite3":
    _db["OPTIONS"] = dict(SQLITE_OPTIONS)
    # A file (not :memory:) so that worker subprocesses in tests can share the test database.
    _db["TEST"] = {"NAME": str(VAR_DIR / f"test-{os.getpid()}.sqlite3")}
    _db["CONN_MAX_AGE"] = 0 if TESTING else _db.get("CONN_MAX_AGE", 0)
if _db["ENGINE"] == "django.db.backends.postgresql" and env_bool("DB_POOL", True):
    # Under ASGI each request's sync code runs in its own thread, so persistent per-thread connections
    # pile up until PostgreSQL refuses clients (measured: "too many clients" at 32 concurrent requests);
    # a bounded pool per process keeps the count at workers x DB_POOL_MAX.
    _db["CONN_MAX_AGE"] = 0
    _db.setdefault("OPTIONS", {})["pool"] = {
        "min_size": int(env("DB_POOL_MIN", "2")),
        "max_size": int(env("DB_POOL_MAX", "8")),
        "timeout": float(env("DB_POOL_TIMEOUT", "10")),
    }
DATABASES = {"default": _db}
IS_SQLITE = _db["ENGINE"] == "django.db.backends.sqlite3"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- auth -----------------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if TESTING:
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LOGIN_LOCKOUT_FAILURES = int(env("LOGIN_LOCKOUT_FAILURES", "5"))
LOGIN_LOCKOUT_MINUTES = int(env("LOGIN_LOCKOUT_MINUTES", "15"))

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = CAREKIT_ENV == "prod" and env_bool("SECURE_COOKIES", True)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE

# --- i18n -----------------------------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("ru", "Русский")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
# Uploaded files (message attachments): under var/ so that backups and erasure find them.
MEDIA_ROOT = Path(env("MEDIA_ROOT", str(VAR_DIR / "media"))).resolve()
STATICFILES_DIRS = [p for p in [BASE_DIR / "node_modules"] if p.exists()]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Embedded mode serves static files from the app directories without a collectstatic step.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# --- email ----------------------------------------------------------------------------------------
EMAIL_HOST = env("EMAIL_HOST", "127.0.0.1")
EMAIL_PORT = int(env("EMAIL_PORT", "25"))
EMAIL_HOST_USER = env("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS")
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "Carekit <no-reply@carekit.local>")
# "smtp" sends through EMAIL_HOST; "file" writes .eml files under var/mail (the embedded default).
EMAIL_TRANSPORT = env("EMAIL_TRANSPORT", "file" if CAREKIT_ENV != "prod" else "smtp")
EMAIL_FILE_PATH = VAR_DIR / "mail"

# --- jobs (Huey) ----------------------------------------------------------------------------------
REDIS_URL = env("REDIS_URL")
HUEY_IMMEDIATE = env_bool("HUEY_IMMEDIATE", TESTING)
HUEY_FILE = env(
    "HUEY_FILE", str(VAR_DIR / (f"test-huey-{os.getpid()}.sqlite3" if TESTING else "huey.sqlite3"))
)
HUEY_NAME = env("HUEY_NAME", f"carekit-test-{os.getpid()}" if TESTING else "carekit")
WORKER_THREADS = int(env("WORKER_THREADS", "2"))
# Whether this process's consumer runs the periodic tasks (the sweepers); tests that time a recovery
# themselves turn it off.
WORKER_PERIODIC = env_bool("WORKER_PERIODIC", True)

# --- real-time (Django Channels) -------------------------------------------------------------------
# In-memory layer embedded (one process); channels-redis as soon as REDIS_URL is set, which a separate
# worker or several web processes need (start-up refuses them otherwise).
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL], "prefix": f"{HUEY_NAME}:rt"},
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# --- outbound webhooks -----------------------------------------------------------------------------
# CIDRs the outbound HTTP client may call although they are not public (tests allow 127.0.0.1).
WEBHOOK_ALLOWED_NETWORKS = [n.strip() for n in env("WEBHOOK_ALLOWED_NETWORKS").split(",") if n.strip()] or (
    ["127.0.0.1/32"] if TESTING else []
)
WEBHOOK_TIMEOUT_SECONDS = float(env("WEBHOOK_TIMEOUT_SECONDS", "10"))
WEBHOOK_MAX_ATTEMPTS = int(env("WEBHOOK_MAX_ATTEMPTS", "6"))
WEBHOOK_RETRY_BASE_SECONDS = float(env("WEBHOOK_RETRY_BASE_SECONDS", "30"))
# How long a process remembers which event types a workspace's webhooks want (see core/webhooks/interest.py).
WEBHOOK_INTEREST_CACHE_SECONDS = float(env("WEBHOOK_INTEREST_CACHE_SECONDS", "0" if TESTING else "5"))

# --- operations -----------------------------------------------------------------------------------
# Kept outside the database and outside backups; put it on durable storage shared by every host that
# can erase data (docs/operations.md).
ERASURE_JOURNAL_PATH = env("ERASURE_JOURNAL_PATH", str(VAR_DIR / "erasure-journal.jsonl"))

# --- events ---------------------------------------------------------------------------------------
EVENT_LEASE_SECONDS = int(env("EVENT_LEASE_SECONDS", "60"))
EVENT_MAX_ATTEMPTS = int(env("EVENT_MAX_ATTEMPTS", "8"))
EVENT_RETRY_BASE_SECONDS = float(env("EVENT_RETRY_BASE_SECONDS", "2"))
EVENT_SWEEP_GRACE_SECONDS = int(env("EVENT_SWEEP_GRACE_SECONDS", "30"))

# --- API ------------------------------------------------------------------------------------------
API_MAX_BODY_BYTES = int(env("API_MAX_BODY_BYTES", str(1024 * 1024)))
# How long a verified API token is remembered per process; a revocation reaches other processes within it.
API_TOKEN_CACHE_SECONDS = float(env("API_TOKEN_CACHE_SECONDS", "0" if TESTING else "10"))
DATA_UPLOAD_MAX_MEMORY_SIZE = API_MAX_BODY_BYTES
# Threads per web process that run Django's views (ADR 0202); with the PostgreSQL pool, keep it at or
# below DB_POOL_MAX so no request waits for a connection.
WEB_THREADS = int(env("WEB_THREADS", env("DB_POOL_MAX", "8")))
NINJA_PAGINATION_PER_PAGE = 50

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {"huey": {"level": "WARNING"}, "django.db.backends": {"level": "WARNING"}},
}
