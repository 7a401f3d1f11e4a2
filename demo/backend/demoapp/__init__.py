"""The reference backend of Sentry Stacks: Django + Celery + Redis, instrumented with sentry-sdk."""
