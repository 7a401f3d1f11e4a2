"""Development delivery: log each envelope item instead of sending it (``SENTRY_STACKS_LOG_EVENTS``).

One line per item on the logger ``sentry_stacks_runtime.events``: errors and messages at WARNING (the level a
developer sees), transactions, logs, check-ins and the rest at INFO. Nothing leaves the process. The DSN is never
logged.
"""

from __future__ import annotations

import logging
from typing import Any

from sentry_sdk.envelope import Envelope
from sentry_sdk.transport import Transport

log = logging.getLogger("sentry_stacks_runtime.events")


def _summary(kind: str, payload: dict[str, Any] | None) -> str:
    if not isinstance(payload, dict):
        return kind
    if kind == "event":
        values = (payload.get("exception") or {}).get("values") or []
        if values:
            last = values[-1]
            what = f"{last.get('type', '?')}: {str(last.get('value', ''))[:200]}"
        else:
            message = payload.get("logentry") or {}
            what = str(message.get("formatted") or message.get("message") or payload.get("message") or "")[:200]
        return f"{payload.get('level', 'error')} event {payload.get('event_id', '?')}: {what}"
    if kind == "transaction":
        spans = len(payload.get("spans") or [])
        return f"transaction {payload.get('transaction', '?')!r} ({spans} spans)"
    if kind == "check_in":
        return f"check-in {payload.get('monitor_slug', '?')}: {payload.get('status', '?')}"
    return kind


class LogTransport(Transport):
    """A transport that logs what the SDK would send."""

    def __init__(self, options: dict[str, Any] | None = None) -> None:
        super().__init__(options)
        self.logged = 0

    def capture_envelope(self, envelope: Envelope) -> None:
        for item in envelope.items:
            kind = item.type or item.headers.get("type") or "item"
            payload = item.payload.json if kind in ("event", "transaction", "check_in") else None
            level = logging.WARNING if kind == "event" else logging.INFO
            log.log(level, "not sent (SENTRY_STACKS_LOG_EVENTS): %s", _summary(kind, payload))
            self.logged += 1


__all__ = ["LogTransport"]
