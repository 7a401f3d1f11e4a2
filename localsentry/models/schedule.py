"""Cron monitor schedules as Sentry reads them: a crontab (5 fields, names, ranges, steps, lists and the `@daily`
style macros) evaluated in the monitor's timezone, or an interval `[n, unit]`.

`next_after(schedule_type, schedule, timezone, ts)` is the first expected check-in time strictly after `ts`,
aligned to the minute (Sentry's clock ticks once a minute). Intervals count from the reference time, as
Sentry's `get_next_schedule` does.
"""

from __future__ import annotations

import calendar
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

INTERVAL_UNITS = ("year", "month", "week", "day", "hour", "minute")
MACROS = {
    "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *", "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *",
}  # fmt: skip
MONTHS = {m.lower(): i for i, m in enumerate(calendar.month_abbr) if m}
DAYS = {d.lower(): (i + 1) % 7 for i, d in enumerate(calendar.day_abbr)}  # mon=1 … sun=0
FIELDS: tuple[tuple[int, int, dict[str, int]], ...] = (
    (0, 59, {}),
    (0, 23, {}),
    (1, 31, {}),
    (1, 12, MONTHS),
    (0, 7, DAYS),
)
TIMEZONES = frozenset(available_timezones()) | {"UTC"}


class ScheduleError(ValueError):
    pass


def _value(text: str, names: dict[str, int]) -> int:
    lowered = text.lower()
    if lowered in names:
        return names[lowered]
    if not text.isdigit():
        raise ScheduleError(text)
    return int(text)


def _field(text: str, low: int, high: int, names: dict[str, int]) -> frozenset[int] | None:
    """The allowed values of one crontab field; None for `*` (anything)."""
    if text == "*":
        return None
    values: set[int] = set()
    for part in text.split(","):
        base, _, step_text = part.partition("/")
        step = int(step_text) if step_text.isdigit() and int(step_text) > 0 else None
        if step_text and step is None:
            raise ScheduleError(part)
        if base == "*":
            start, end = low, high
        elif "-" in base:
            first, _, last = base.partition("-")
            start, end = _value(first, names), _value(last, names)
        else:
            start = _value(base, names)
            end = high if step else start
        if not low <= start <= high or not low <= end <= high or start > end:
            raise ScheduleError(part)
        values.update(range(start, end + 1, step or 1))
    return frozenset(values)


def parse_crontab(text: str) -> list[frozenset[int] | None]:
    expanded = MACROS.get(text.strip().lower(), text)
    parts = expanded.split()
    if len(parts) != 5:
        raise ScheduleError(text)
    fields = [_field(p, lo, hi, names) for p, (lo, hi, names) in zip(parts, FIELDS, strict=True)]
    if fields[4] is not None and 7 in fields[4]:
        fields[4] = frozenset({*fields[4] - {7}, 0})
    return fields


def _matches_day(fields: list[frozenset[int] | None], moment: datetime) -> bool:
    dom, month, dow = fields[2], fields[3], fields[4]
    if month is not None and moment.month not in month:
        return False
    day_ok = dom is None or moment.day in dom
    week_ok = dow is None or (moment.weekday() + 1) % 7 in dow
    if dom is not None and dow is not None:
        return day_ok or week_ok  # cron: either restricted day field may match
    return day_ok and week_ok


def next_crontab(text: str, timezone: str, ts: float) -> float:
    fields = parse_crontab(text)
    zone = ZoneInfo(timezone or "UTC")
    moment = datetime.fromtimestamp(ts, zone).replace(second=0, microsecond=0, tzinfo=None) + timedelta(minutes=1)
    limit = moment + timedelta(days=366 * 5)
    minutes, hours = fields[0], fields[1]
    while moment < limit:
        if not _matches_day(fields, moment):
            moment = moment.replace(hour=0, minute=0) + timedelta(days=1)
        elif hours is not None and moment.hour not in hours:
            moment = moment.replace(minute=0) + timedelta(hours=1)
        elif minutes is not None and moment.minute not in minutes:
            moment += timedelta(minutes=1)
        else:
            return moment.replace(tzinfo=zone).timestamp()
    raise ScheduleError(text)


def _add_months(moment: datetime, months: int) -> datetime:
    total = moment.month - 1 + months
    year, month = moment.year + total // 12, total % 12 + 1
    return moment.replace(year=year, month=month, day=min(moment.day, calendar.monthrange(year, month)[1]))


def next_interval(count: int, unit: str, ts: float) -> float:
    moment = datetime.fromtimestamp(ts, UTC).replace(second=0, microsecond=0)
    if unit in ("year", "month"):
        return _add_months(moment, count * (12 if unit == "year" else 1)).timestamp()
    seconds = {"week": 604800, "day": 86400, "hour": 3600, "minute": 60}[unit]
    return moment.timestamp() + count * seconds


def next_after(schedule_type: str, schedule: Any, timezone: str | None, ts: float) -> float:
    if schedule_type == "interval":
        return next_interval(int(schedule[0]), str(schedule[1]), ts)
    return next_crontab(str(schedule), timezone or "UTC", ts)


def check_schedule(schedule_type: str, schedule: Any, timezone: str | None) -> str | None:
    """The problem with a schedule, in Sentry's words, or None."""
    if timezone is not None and timezone not in TIMEZONES:
        return f'"{timezone}" is not a valid choice.'
    if schedule_type == "interval":
        if (not isinstance(schedule, list) or len(schedule) != 2 or not isinstance(schedule[0], int)
                or isinstance(schedule[0], bool) or schedule[0] < 1 or schedule[1] not in INTERVAL_UNITS):  # fmt: skip
            return "Invalid interval"
        return None
    if not isinstance(schedule, str):
        return "Schedule was not parseable"
    try:
        next_crontab(schedule, timezone or "UTC", 0)
    except (ScheduleError, ZoneInfoNotFoundError):
        return "Schedule was not parseable"
    return None
