"""Django settings of the reference backend: everything from the environment.

The demo login (django.contrib.auth and sessions) keeps its users and sessions in a SQLite file,
DJANGO_DB_PATH (default $TMPDIR/demo-backend.sqlite3, i.e. per container); bin/web migrates it and
creates the demo user (DEMO_USERNAME / DEMO_PASSWORD, demoapp/bootstrap.py) before gunicorn starts.

Environment: PORT / BIND (bin/web), DJANGO_SECRET_KEY (bin/web generates one per container when
absent, so the gunicorn workers share it; sessions then last as long as the container),
DJANGO_ALLOWED_HOSTS (comma-separated; loopback names are always allowed so health checks and the host
network work), DJANGO_DEBUG, CORS_ALLOWED_ORIGINS (comma-separated origins or *; default *; allowed
origins may send credentials, the session cookie), DJANGO_DB_PATH, DEMO_USERNAME / DEMO_PASSWORD,
CELERY_BROKER_URL / REDIS_URL, CELERY_RESULT_BACKEND,
and the SENTRY_* variables the toolkit renders, read by sentry-stacks-runtime (packages/python/README.md).
"""

from __future__ import annotations

import os
import secrets

import sentry_stacks_runtime

# Sentry: the rendered SENTRY_* variables (and the env file of dsnReload: file), one call; demoapp.noise is the
# demo's noise logger, dropped in development environments
sentry_stacks_runtime.init(development_noise_loggers=["demoapp.noise"])

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY") or secrets.token_urlsafe(50)
DEBUG = os.environ.get("DJANGO_DEBUG", "").strip().lower() in ("1", "true", "yes", "on")
LOOPBACK_HOSTS = ["localhost", "127.0.0.1", "[::1]"]
ALLOWED_HOSTS = [h.strip() for h in os.environ.get("DJANGO_ALLOWED_HOSTS", "").split(",") if h.strip()]
ALLOWED_HOSTS += [h for h in LOOPBACK_HOSTS if h not in ALLOWED_HOSTS]
CORS_ALLOWED_ORIGINS = [o.strip() for o in os.environ.get("CORS_ALLOWED_ORIGINS", "*").split(",") if o.strip()]

INSTALLED_APPS: list[str] = ["django.contrib.contenttypes", "django.contrib.auth", "django.contrib.sessions"]
MIDDLEWARE = [
    "demoapp.middleware.CorsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "sentry_stacks_runtime.django.SentryUserMiddleware",
]
# the Sentry user of a request without a login: the id the demo page sends (header), else its cookie
SENTRY_STACKS = {"USER_ID_HEADER": "X-User-Id", "USER_EMAIL_HEADER": "X-User-Email", "USER_ID_COOKIE": "demo_user_id"}
ROOT_URLCONF = "demoapp.urls"
WSGI_APPLICATION = "demoapp.wsgi.application"
DATABASES: dict[str, dict[str, str]] = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("DJANGO_DB_PATH")
        or os.path.join(os.environ.get("TMPDIR") or "/tmp", "demo-backend.sqlite3"),  # noqa: S108 - per container
    }
}
# the session cookie is SameSite=Lax: the frontend on another port of the same host is the same site, so its
# credentialed fetches carry it; pages of other sites never do (CORS alone would not stop them sending it)
SESSION_COOKIE_NAME = "demo_sessionid"
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 8 * 3600
DEMO_USERNAME = os.environ.get("DEMO_USERNAME") or "demo"
USE_TZ = True
TIME_ZONE = "UTC"
APPEND_SLASH = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL") or REDIS_URL
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND") or CELERY_BROKER_URL
CELERY_RESULT_EXPIRES = 3600
CELERY_TASK_TRACK_STARTED = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO").upper()},
}
