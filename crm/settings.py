"""Settings for the CRM: one module, every knob read from the environment.

Development defaults are safe to run locally; `DEBUG=False` (the default)
demands a real SECRET_KEY and turns on every production protection.
"""
from datetime import timedelta
from pathlib import Path

import environ
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
# A local .env (written by `make run` on first start, never committed) holds development settings.
if (BASE_DIR / ".env").exists():
    environ.Env.read_env(BASE_DIR / ".env")

DEBUG = env.bool("DEBUG", default=False)
# A key is only generated for DEBUG runs; production must set one.
SECRET_KEY = env("SECRET_KEY", default="dev-insecure-key-only-for-debug" if DEBUG else environ.Env.NOTSET)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "django.contrib.admin",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_filters",
    "import_export",
    "simple_history",
    "template_partials",
    "django_htmx",
    "csp",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    # the platform
    "crm.core",
    "crm.access",
    "crm.customization",
    "crm.activities",
    "crm.notifications",
    "crm.lists",
    "crm.imports",
    "crm.mail",
    "crm.automation",
    # the domain apps
    "leads",
    "accounts",
    "opportunities",
    "campaigns",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "crm.core.middleware.RequestScopeMiddleware",
    "crm.core.middleware.TrustedProxyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # After AuthenticationMiddleware (it needs request.user); WhiteNoise, above, serves static files first.
    "crm.core.middleware.NoStoreForSignedInMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "crm.access.middleware.SessionIdleTimeoutMiddleware",
    "crm.access.middleware.UserPreferencesMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "crm.urls"
WSGI_APPLICATION = "crm.wsgi.application"
ASGI_APPLICATION = "crm.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.tz",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "crm.core.context_processors.shell",
                "crm.notifications.context_processors.unread",
            ],
        },
    },
]

# --- Data stores -----------------------------------------------------------
# crm/devstack.py fills DATABASE_URL / REDIS_URL with embedded servers when unset.
DATABASES = {"default": env.db("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/crm")}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# Query planning for this workload. random_page_cost: PostgreSQL's default (4) assumes spinning disks; with
# it a manager's list of a million leads is read by scanning the table instead of the owner index.
# Parallel workers: a page of 50 rows is found faster by one process than by starting workers that then
# compete with the other requests for the same cores (a filtered list: 14 ms serial, 33-155 ms parallel).
_options = DATABASES["default"].setdefault("OPTIONS", {})
_options["options"] = " ".join(filter(None, [
    _options.get("options", ""),
    f"-c random_page_cost={env.float('DB_RANDOM_PAGE_COST', default=1.1)}",
    f"-c max_parallel_workers_per_gather={env.int('DB_PARALLEL_WORKERS', default=0)}"]))
# Server-side parameters and prepared statements: psycopg prepares a statement a connection has run 5 times,
# and PostgreSQL then plans it once per connection, not on every request; planning a list page's query cost
# more than running it (1.4 ms against 0.6 ms for a rep's page of leads among a million). Behind a
# transaction-mode pooler (PgBouncer without max_prepared_statements) set DB_PREPARE_THRESHOLD=-1: off.
_prepare = env.int("DB_PREPARE_THRESHOLD", default=5)
if _prepare >= 0:
    _options.setdefault("server_side_binding", True)
    _options.setdefault("prepare_threshold", _prepare)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env("REDIS_URL", default="redis://127.0.0.1:6379/0")
CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": env("CACHE_KEY_PREFIX", default="crm"),
        "OPTIONS": {"CLIENT_CLASS": "django_redis.client.DefaultClient"},
    }
}

# --- Authentication and sessions -----------------------------------------
AUTH_USER_MODEL = "access.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "crm.access.backends.CachedUserBackend",
    "django.contrib.auth.backends.ModelBackend",  # sessions begun before CachedUserBackend name this one
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Tests hash thousands of passwords; a fast hasher keeps the suite quick. Never set in production.
if env.bool("TEST_FAST_PASSWORD_HASHER", default=False):
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
# Absolute lifetime of a session; the idle limit is enforced by SessionIdleTimeoutMiddleware.
SESSION_COOKIE_AGE = env.int("SESSION_MAX_AGE_SECONDS", default=12 * 3600)
SESSION_IDLE_TIMEOUT = env.int("SESSION_IDLE_SECONDS", default=30 * 60)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True

# django-axes: lock an account after repeated failures. Per username only: locking an IP would lock
# out everyone behind one office NAT after five typos; failures per address are limited by
# LOGIN_FAILURE_RATE_LIMIT below instead.
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["username"]
# axes warns when it does not also lock addresses; LoginView limits failures per address itself.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
AXES_USERNAME_FORM_FIELD = "username"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "crm.access.auth.lockout_response"
AXES_ENABLE_ACCESS_FAILURE_LOG = True
# Client IP comes from REMOTE_ADDR, which TrustedProxyMiddleware rewrites only
# for requests that arrive from TRUSTED_PROXIES.
AXES_CLIENT_IP_CALLABLE = "crm.core.middleware.client_ip"
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=[])
# Failed sign-ins per address and window; successful ones never count, so a whole office behind one
# address signs in at nine, while one address spraying passwords over many accounts is stopped.
LOGIN_FAILURE_RATE_LIMIT = env("LOGIN_FAILURE_RATE_LIMIT", default="100/10m")
# Wrong two-factor codes per address at the sign-in code step, and attempts per user on the
# two-factor settings page.
LOGIN_RATE_LIMIT = env("LOGIN_RATE_LIMIT", default="20/10m")
# Two-factor codes per user at the sign-in code step, right or wrong.
LOGIN_VERIFY_RATE_LIMIT = env("LOGIN_VERIFY_RATE_LIMIT", default="10/10m")

OTP_TOTP_ISSUER = env("OTP_TOTP_ISSUER", default="CRM")

# --- Internationalisation -------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("fa", _("Persian")), ("fi", _("Finnish"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env("TIME_ZONE", default="UTC")
# The organisation's currency: amounts without one of their own, and totals across currencies.
CORPORATE_CURRENCY = env("CORPORATE_CURRENCY", default="EUR")
# The seller on quotes and invoices (their PDFs' header); empty: the name in DEFAULT_FROM_EMAIL.
COMPANY_NAME = env("COMPANY_NAME", default="")
COMPANY_ADDRESS = env("COMPANY_ADDRESS", default="")
USE_I18N = True
USE_TZ = True

# --- Static and media -----------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(env("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG and env.bool("MANIFEST_STATIC", default=True)
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# Uploaded files live outside the web root and are served only by views that check access.
MEDIA_ROOT = Path(env("MEDIA_ROOT", default=str(VAR_DIR / "media")))
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

# --- Email ------------------------------------------------------------------
EMAIL_BACKEND = env(
    "EMAIL_BACKEND",
    default="django.core.mail.backends.filebased.EmailBackend" if DEBUG else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_FILE_PATH = str(VAR_DIR / "mail")
EMAIL_HOST = env("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="CRM <crm@localhost>")

# --- Celery -----------------------------------------------------------------
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)}
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_QUEUE", default="celery")
CELERY_TIMEZONE = "UTC"
# Workflow-rule webhooks never call into the CRM's own network (loopback, private, link-local such as cloud
# metadata) unless a network is listed here, e.g. AUTOMATION_WEBHOOK_ALLOWED_NETWORKS=10.20.0.0/16.
AUTOMATION_WEBHOOK_ALLOWED_NETWORKS = env.list("AUTOMATION_WEBHOOK_ALLOWED_NETWORKS", default=[])
# Modules whose register() subscribes more event handlers at start-up (plugins; the events crash test's probe).
EVENT_SUBSCRIBER_MODULES = env.list("EVENT_SUBSCRIBER_MODULES", default=[])

# --- Security headers ---------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env.bool("BEHIND_TLS_PROXY", default=False) else None
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SESSION_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}

# --- Forms and UI -------------------------------------------------------------
CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"
IMPORT_EXPORT_SKIP_ADMIN_LOG = True

# --- Limits -------------------------------------------------------------------------
IMPORT_MAX_BYTES = env.int("IMPORT_MAX_BYTES", default=20 * 1024 * 1024)
IMPORT_MAX_ROWS = env.int("IMPORT_MAX_ROWS", default=200_000)
IMPORT_MAX_UNZIPPED_BYTES = env.int("IMPORT_MAX_UNZIPPED_BYTES", default=200 * 1024 * 1024)
IMPORT_ASYNC_ROWS = env.int("IMPORT_ASYNC_ROWS", default=2_000)
WEBFORM_RATE_LIMIT = env("WEBFORM_RATE_LIMIT", default="10/1m")
# Lists count at most this many rows ("more than 10,000 leads"); pages stop there.
LIST_COUNT_LIMIT = env.int("LIST_COUNT_LIMIT", default=10_000)
# The similar company + name duplicate search gives up after this long (email and phone matches still show).
DUPLICATE_SEARCH_TIMEOUT_MS = env.int("DUPLICATE_SEARCH_TIMEOUT_MS", default=1000)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}
