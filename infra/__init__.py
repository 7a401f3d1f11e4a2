"""Sentry Stacks: Sentry observability as code, one Pulumi stack per environment."""
