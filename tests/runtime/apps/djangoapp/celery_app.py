"""The Celery app: init() here too, before the worker imports a task."""

import os

from celery import Celery

import sentry_stacks_runtime

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "djangoapp.settings")
sentry_stacks_runtime.init(development_noise_loggers=["djangoapp.noise"])

app = Celery("djangoapp", include=["djangoapp.tasks"])
app.config_from_object("django.conf:settings", namespace="CELERY")
