"""Harbor's settings: the one module that reads the environment.

Production differs from development only by environment values (see ``.env.example``).
Values that are wrong fail loudly at start-up rather than at the first request.
"""

from __future__ import annotations

import warnings
from datetime import timedelta
from pathlib import Path

import environ
from cryptography.fernet import Fernet
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DJANGO_DEBUG", default=False)
# The default is for development and tests only: `manage.py check --deploy` refuses it.
SECRET_KEY = env.str(
    "DJANGO_SECRET_KEY", default="django-insecure-harbor-development-key-do-not-use-in-production"
)

ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
HARBOR_SITE_URL = env.str("HARBOR_SITE_URL", default="http://127.0.0.1:8000")

INSTALLED_APPS = [
    "accounts.admin_apps.HarborAdminConfig",  # django.contrib.admin, on a site for verified administrators
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_htmx",
    "phonenumber_field",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "pgtrigger",
    "pghistory",
    "accounts",
    "intake",
    "volunteers",
    "referrals",
    "notifications",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "config.middleware.PermissionsPolicyMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Signed-in pages are never stored by the browser or a proxy (Back after sign-out).
    "config.middleware.NoStoreWhenSignedInMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    # Every change a request makes to a personal record carries its user and path (config.history).
    "pghistory.middleware.HistoryMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "accounts.middleware.SessionPolicyMiddleware",
    "accounts.middleware.TwoFactorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",  # last, as django-axes requires
]

ROOT_URLCONF = "config.urls"
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
                "accounts.context_processors.navigation",
            ],
        },
    },
]

# --- Database: PostgreSQL only -------------------------------------------------------------
if env.str("DATABASE_URL", default=""):
    DATABASES = {"default": env.db("DATABASE_URL")}
    EMBEDDED_POSTGRES = False
else:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
        from config import embedded_postgres

        DATABASES = {"default": env.db_url_config(embedded_postgres.database_url(VAR_DIR))}
    EMBEDDED_POSTGRES = True
if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    raise ImproperlyConfigured("Harbor runs on PostgreSQL only: DATABASE_URL must be postgres://…")
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Celery --------------------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS: dict = {"visibility_timeout": 3600}
else:
    # No Redis installed: kombu's filesystem transport, so a real worker and beat still run.
    _broker_dir = VAR_DIR / "celery" / "broker"
    _broker_dir.mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir),
        "data_folder_out": str(_broker_dir),
        "processed_folder": str(VAR_DIR / "celery" / "processed"),
        "control_folder": str(VAR_DIR / "celery" / "control"),
        "store_processed": False,
    }
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE_FILENAME = env.str(
    "CELERY_BEAT_SCHEDULE_FILENAME", default=str(VAR_DIR / "celery" / "beat-schedule")
)
Path(CELERY_BEAT_SCHEDULE_FILENAME).parent.mkdir(parents=True, exist_ok=True)
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)

# --- Cache and sessions: never in a web process's memory -----------------------------------
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "harbor_cache"}
    )
}
SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_COOKIE_AGE = int(timedelta(hours=12).total_seconds())
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
# A refused form gets a page that says what happened and how to go on (not Django's default).
CSRF_FAILURE_VIEW = "config.views.csrf_failure"
# Django's default, stated: a form or formset with more fields is refused with 400 before any
# form is built (the admin's inlines also set their own max_num).
DATA_UPLOAD_MAX_NUMBER_FIELDS = 1000

# --- Auth ----------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "accounts:home"
LOGOUT_REDIRECT_URL = "accounts:login"
# AxesStandaloneBackend only refuses locked-out logins; ModelBackend signs in (and rejects
# inactive users on every request, which ends a disabled user's sessions at once).
# AdministratorPermissionBackend gives the administrator role its admin permissions (scoped to
# its departments by each ModelAdmin): administrators are not superusers.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "accounts.backends.AdministratorPermissionBackend",
]
# Session policy (accounts.middleware.SessionPolicyMiddleware): staff are signed out after
# 15 idle minutes and 12 hours after signing in; volunteers stay signed in on their phone for
# 30 days but confirm their password for case details 12 hours after last entering it.
HARBOR_STAFF_IDLE_TIMEOUT = timedelta(minutes=15)
HARBOR_STAFF_SESSION_MAX_AGE = timedelta(hours=12)
HARBOR_VOLUNTEER_REAUTH_AFTER = timedelta(hours=12)

# --- Two-factor sign-in (django-otp: TOTP apps, recovery codes) ------------------------------
# Required for desk officers, coordinators and administrators (accounts.two_factor); volunteers
# are asked to enrol. Deliberately no setting turns it off: check harbor.E002 fails if the
# middleware is removed.
OTP_TOTP_ISSUER = "Harbor"
HARBOR_RECOVERY_CODE_COUNT = 10

# --- Lockout after repeated failed logins (django-axes, database handler) ------------------
AXES_ENABLED = env.bool("AXES_ENABLED", default=True)
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=30)
# Per username, from any address: officers share a station's address, so locking by address
# alone would lock out a whole department. (The username+address pair is implied by the first;
# it is listed because axes' check W006 asks for the address.)
AXES_LOCKOUT_PARAMETERS = [["username"], ["ip_address", "username"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Security headers ------------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=False)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # load balancers and compose probe over plain HTTP
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=False)
# Preloading is a recommendation (harbor.I001), not a failure of `check --deploy`.
SILENCED_SYSTEM_CHECKS = ["security.W021"]
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Sent by config.middleware.PermissionsPolicyMiddleware: Harbor needs none of these features.
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=()"
# django-csp: everything from Harbor's own origin, no inline script, no framing.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env.bool("DJANGO_BEHIND_PROXY", default=False) else None
)

# --- Internationalisation ------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "America/New_York"
USE_I18N = True
USE_TZ = True

# --- Static files --------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = Path(env.str("HARBOR_STATIC_ROOT", default="") or BASE_DIR / "staticfiles")
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
MANIFEST_STATIC = env.bool("HARBOR_MANIFEST_STATIC", default=False)
# Without collected, hashed files (development, tests) whitenoise serves straight from the apps.
WHITENOISE_USE_FINDERS = not MANIFEST_STATIC
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if MANIFEST_STATIC
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"
PHONENUMBER_DEFAULT_REGION = "US"

# --- Notifications -------------------------------------------------------------------------
# SMS: notifications.backends.TwilioSmsBackend in production, ConsoleSmsBackend in development,
# InMemorySmsBackend in tests. Email: any Django email backend (django-anymail for providers).
HARBOR_SMS_BACKEND = env.str("HARBOR_SMS_BACKEND", default="notifications.backends.ConsoleSmsBackend")
# Voice calls (pages by phone call, and the fallback for an undelivered text): TwilioVoiceBackend
# in production, ConsoleVoiceBackend in development, InMemoryVoiceBackend in tests.
HARBOR_VOICE_BACKEND = env.str("HARBOR_VOICE_BACKEND", default="notifications.backends.ConsoleVoiceBackend")
TWILIO_ACCOUNT_SID = env.str("TWILIO_ACCOUNT_SID", default="")
TWILIO_AUTH_TOKEN = env.str("TWILIO_AUTH_TOKEN", default="")
TWILIO_FROM_NUMBER = env.str("TWILIO_FROM_NUMBER", default="")
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Harbor <harbor@localhost>")
HARBOR_EMAIL_DOMAIN = env.str("HARBOR_EMAIL_DOMAIN", default="harbor.localhost")
# Where Twilio posts delivery receipts of texts and calls (signed; volunteers/paging/provider_views).
TWILIO_STATUS_CALLBACK_URL = env.str(
    "TWILIO_STATUS_CALLBACK_URL", default=HARBOR_SITE_URL.rstrip("/") + "/volunteers/twilio/status/"
)
for _backend in (HARBOR_SMS_BACKEND, HARBOR_VOICE_BACKEND):
    if _backend.startswith("notifications.backends.Twilio") and not (
        TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN and TWILIO_FROM_NUMBER
    ):
        raise ImproperlyConfigured(
            f"{_backend} needs TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_FROM_NUMBER."
        )

# --- Harbor ------------------------------------------------------------------------------
# How long a desk officer may see a walk-in they logged (docs/design.md "The people": a short window).
HARBOR_OFFICER_WINDOW = timedelta(hours=env.int("HARBOR_OFFICER_WINDOW_HOURS", default=24))

# Encryption at rest of the most sensitive fields (config.fields): comma-separated Fernet keys,
# newest first; the first encrypts, every one decrypts. The default is for development and tests
# only: `manage.py check --deploy` refuses it (harbor.E003). Rotation: SECURITY.md.
HARBOR_DEV_FIELD_ENCRYPTION_KEY = "aGFyYm9yLWRldi1maWVsZC1rZXktTk9ULVNFQ1JFVCE="
HARBOR_FIELD_ENCRYPTION_KEYS = [
    key.strip()
    for key in env.list("HARBOR_FIELD_ENCRYPTION_KEYS", default=[HARBOR_DEV_FIELD_ENCRYPTION_KEY])
    if key.strip()
]
if not HARBOR_FIELD_ENCRYPTION_KEYS:
    raise ImproperlyConfigured("HARBOR_FIELD_ENCRYPTION_KEYS is empty: it needs at least one Fernet key.")
for _key in HARBOR_FIELD_ENCRYPTION_KEYS:
    try:
        Fernet(_key)
    except ValueError:
        raise ImproperlyConfigured(
            "HARBOR_FIELD_ENCRYPTION_KEYS holds a value that is not a Fernet key "
            "(32 url-safe base64-encoded bytes; see .env.example)."
        ) from None

# Program figures (the coordinator's dashboard) are kept in the cache and computed again in the
# background (referrals.reports.services.program_figures_cached): one department's after any change they
# count, several departments' once this old. 0: not cached, computed in every request (the tests).
HARBOR_FIGURES_CACHE_SECONDS = 300

# Benchmarks only (`make bench`, `make chaos`; bench/): every response carries the number of SQL
# queries it ran (X-Harbor-Queries) and a signed-in trivial page is served at /bench/trivial.
# Never on in production.
HARBOR_BENCHMARK = env.bool("HARBOR_BENCHMARK", default=False)
if HARBOR_BENCHMARK:
    # Outermost, so that the session and authentication queries are counted too.
    MIDDLEWARE.insert(0, "config.middleware.QueryCountMiddleware")

# --- Logging: no personal health information is ever passed to a logger ---------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"embedded_postgres": {"level": "WARNING"}},
}
