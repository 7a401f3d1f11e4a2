"""Settings: everything Sentry is the one init() call and the middleware line."""

import os

import sentry_stacks_runtime

SENTRY = sentry_stacks_runtime.init(development_noise_loggers=["djangoapp.noise"])

SECRET_KEY = "test-only-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth", "django.contrib.sessions"]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "sentry_stacks_runtime.django.SentryUserMiddleware",
]
SENTRY_STACKS = {"USER_ID_HEADER": "X-User-Id", "USER_EMAIL_HEADER": "X-User-Email", "USER_ID_COOKIE": "visitor"}
ROOT_URLCONF = "djangoapp.urls"
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": os.environ.get("DJANGO_DB_PATH", ":memory:")}}
USE_TZ = True
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "memory://")
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "data_folder_in": os.environ.get("BROKER_DIR", "/tmp"),
    "data_folder_out": os.environ.get("BROKER_DIR", "/tmp"),
    "control_folder": os.environ.get("BROKER_DIR", "/tmp"),  # not ./control in the source tree
}
CELERY_TASK_IGNORE_RESULT = True
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "INFO"},
}
