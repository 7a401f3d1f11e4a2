"""localsentry: a Sentry-compatible management API and ingest server on SQLite.

Never imports pulumi or infra.
"""
