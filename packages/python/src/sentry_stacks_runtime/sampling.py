"""The traces sampler: never a health check; otherwise the incoming parent decision; otherwise the rate.

Health checks are recognised whatever started the transaction: a WSGI request (Django, Flask), an ASGI request
(FastAPI, Starlette, Django under ASGI) or a transaction named after the path.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import Any

from sentry_stacks_runtime.contract import health_paths

Sampler = Callable[[Mapping[str, Any]], float]


def is_health_check(sampling_context: Mapping[str, Any], paths: Collection[str]) -> bool:
    """True for requests to one of `paths`."""
    environ = sampling_context.get("wsgi_environ")
    if isinstance(environ, Mapping) and environ.get("PATH_INFO") in paths:
        return True
    scope = sampling_context.get("asgi_scope")
    if isinstance(scope, Mapping) and scope.get("path") in paths:
        return True
    transaction = sampling_context.get("transaction_context")
    if isinstance(transaction, Mapping):
        name = str(transaction.get("name") or "")
        if name in paths or name.split(" ", 1)[-1] in paths:
            return True
    return False


def make_traces_sampler(rate: float, paths: Collection[str] | None = None) -> Sampler:
    """Never sample health checks (`paths`, default the contract's healthPaths); else honour the parent's
    decision; else sample at `rate`."""
    if not 0.0 <= rate <= 1.0:
        raise ValueError(f"traces sample rate must be between 0 and 1, got {rate!r}")
    skip = frozenset(paths) if paths is not None else health_paths()

    def traces_sampler(sampling_context: Mapping[str, Any]) -> float:
        if is_health_check(sampling_context, skip):
            return 0.0
        parent_sampled = sampling_context.get("parent_sampled")
        if parent_sampled is not None:
            return 1.0 if parent_sampled else 0.0
        return rate

    return traces_sampler


__all__ = ["Sampler", "is_health_check", "make_traces_sampler"]
