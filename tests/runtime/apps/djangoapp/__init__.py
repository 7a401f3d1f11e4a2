"""A small Django + Celery app that configures Sentry only through sentry-stacks-runtime (tests/runtime)."""
