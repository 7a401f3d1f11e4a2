"""The management API, one module per resource family, mirroring infra/sentry/<singular>.py.

Imports point one way: route modules (those with `register`) -> `*_model.py`, `common.py`, `engine.py` ->
`localsentry.db` / `localsentry.http` / `localsentry.vocabulary`. The router is assembled in `localsentry.routes`.
"""
