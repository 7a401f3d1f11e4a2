"""What localsentry knows, shared by every route: the rows, rules and shapes of Sentry's objects (projects, keys,
issues and their grouping, cron monitors and check-ins, releases, detectors, workflows, stored telemetry).

Routes (`localsentry.api`, `localsentry.ingest`, `localsentry.web`) import models; models import storage
(`localsentry.db`, `localsentry.http`, `localsentry.vocabulary`) and each other, never a route.
"""
