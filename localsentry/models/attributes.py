"""Values inside stored telemetry as the SDKs send them: typed record attributes (`{"value": …, "type": …}`) and
timestamps (seconds as a number, or an ISO 8601 string). Read at ingest and by the read APIs alike."""

from __future__ import annotations

from datetime import datetime
from typing import Any


def parse_timestamp(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
        except ValueError:
            try:
                return float(value)
            except ValueError:
                return None
    return None


def attribute(record: dict[str, Any], name: str) -> Any:
    """A typed attribute's value (`{"value": …, "type": …}`), or a bare value."""
    attrs = record.get("attributes")
    if not isinstance(attrs, dict) or name not in attrs:
        return None
    value = attrs[name]
    return value.get("value") if isinstance(value, dict) else value
