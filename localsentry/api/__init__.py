"""The management and read APIs, one route module per resource family, mirroring infra/sentry/<singular>.py.

Imports point one way: routes (`localsentry.api`, `localsentry.ingest`, `localsentry.web`) -> models
(`localsentry.models`) -> storage (`localsentry.db` and its migrations, `localsentry.http`, `localsentry.vocabulary`).
`api` and `ingest` never import each other, and a route module never imports another route module: what two of
them share is a model. The router is assembled in `localsentry.routes`; `tests/sentry/test_localsentry_imports.py`
holds the rules.
"""
