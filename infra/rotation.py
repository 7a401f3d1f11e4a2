"""DSN rotation as a state machine over stack config (pure; no I/O).

Every step of a rotation is a change to the stack's config, applied by `pulumi up`:

* ``start``: a new key generation is added (active) and made current; the old one stays active, so
  both DSNs are accepted while files and containers switch over. ``rotation.<service>`` records
  ``{old, new, phase: started, startedAt}``.
* ``verify``: after a real ingest round trip with the new DSN, ``phase: verified, verifiedAt``.
* ``finish``: allowed once verified, after the grace period, and when the old key received no event
  for the quiet window: the old generation becomes inactive (``phase: finished, disabledAt``). With
  ``--delete``, or on a later ``finish`` after the delete grace, it is removed (the key is deleted)
  and the rotation record is cleared.
* ``abort``: back to the old key; the new one is made inactive (``phase: aborted``). A later
  ``start`` begins a fresh rotation.

Because the record lives in the stack, an interrupted rotation is resumed (``start`` again, or
``verify``/``finish``) or undone (``abort``) from any machine with access to the stack.

A refusal says what to run next: ``command`` is the command line that ran, up to its ``--stack`` (the installed
``sentry-stacks-rotate-dsn --stack NAME`` unless the caller says how it was run; infra/commands.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

Phase = Literal["started", "verified", "finished", "aborted"]
_GEN_NUMBER = re.compile(r"^(.*?)(\d+)$")
#: what a refusal names when the caller does not say how the command was run (the installed console script)
COMMAND = "sentry-stacks-rotate-dsn --stack <stack>"


class RotationRefused(Exception):
    """A step that must not run now; the message says why and what to do."""


@dataclass(frozen=True)
class ServiceKeys:
    """The key generations of one service in one stack: generation -> active, and the current one."""

    current: str
    generations: tuple[tuple[str, bool], ...]

    def active(self, generation: str) -> bool:
        return dict(self.generations).get(generation, False)

    def has(self, generation: str) -> bool:
        return generation in dict(self.generations)

    def with_generation(self, generation: str, active: bool) -> ServiceKeys:
        gens = dict(self.generations)
        gens[generation] = active
        return replace(self, generations=tuple(gens.items()))

    def without(self, generation: str) -> ServiceKeys:
        return replace(self, generations=tuple((g, a) for g, a in self.generations if g != generation))


@dataclass(frozen=True)
class Rotation:
    old: str
    new: str
    phase: Phase
    started_at: datetime
    verified_at: datetime | None = None
    disabled_at: datetime | None = None

    def to_config(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "old": self.old,
            "new": self.new,
            "phase": self.phase,
            "startedAt": _iso(self.started_at),
        }
        if self.verified_at:
            out["verifiedAt"] = _iso(self.verified_at)
        if self.disabled_at:
            out["disabledAt"] = _iso(self.disabled_at)
        return out

    @staticmethod
    def from_config(service: str, raw: Any) -> Rotation:
        if not isinstance(raw, dict):
            raise ValueError(f"rotation.{service} must be an object, got {raw!r}")
        phase = raw.get("phase")
        if phase not in ("started", "verified", "finished", "aborted"):
            raise ValueError(
                f"rotation.{service}.phase must be one of started, verified, finished, aborted; got {phase!r}"
            )
        for key in ("old", "new", "startedAt"):
            if not isinstance(raw.get(key), str) or not raw[key]:
                raise ValueError(f"rotation.{service}.{key} must be a non-empty string")
        return Rotation(
            old=raw["old"],
            new=raw["new"],
            phase=phase,
            started_at=_parse(raw["startedAt"], f"rotation.{service}.startedAt"),
            verified_at=_parse(raw["verifiedAt"], f"rotation.{service}.verifiedAt") if raw.get("verifiedAt") else None,
            disabled_at=_parse(raw["disabledAt"], f"rotation.{service}.disabledAt") if raw.get("disabledAt") else None,
        )


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _parse(text: str, key: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ValueError(f"{key} must be an ISO-8601 time, got {text!r}") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def next_generation(keys: ServiceKeys) -> str:
    """g1 -> g2, 2026-1 -> 2026-2; always a name not used yet."""
    match = _GEN_NUMBER.match(keys.current)
    prefix, number = (match.group(1), int(match.group(2))) if match else (keys.current + "-", 1)
    existing = {g for g, _ in keys.generations}
    candidate = f"{prefix}{number + 1}"
    while candidate in existing:
        number += 1
        candidate = f"{prefix}{number + 1}"
    return candidate


def plan_start(
    service: str, keys: ServiceKeys, rotation: Rotation | None, now: datetime, *, command: str = COMMAND
) -> tuple[ServiceKeys, Rotation]:
    """Add a new active generation and make it current. Resumes a rotation already under way."""
    if rotation and rotation.phase in ("started", "verified"):
        # Resume: make sure the config says what the record says (a kill may have hit between writes).
        resumed = keys.with_generation(rotation.new, True).with_generation(rotation.old, True)
        return replace(resumed, current=rotation.new), rotation
    if not keys.active(keys.current):
        raise RotationRefused(
            f"{service}: the current key {keys.current} is disabled; fix the stack config so that an active key "
            f"is current (or run `{command} --service {service} abort`) before starting a rotation"
        )
    new = next_generation(keys)
    started = keys.with_generation(new, True)
    return replace(started, current=new), Rotation(old=keys.current, new=new, phase="started", started_at=now)


def plan_verified(service: str, rotation: Rotation | None, now: datetime, *, command: str = COMMAND) -> Rotation:
    if rotation is None or rotation.phase not in ("started", "verified"):
        raise RotationRefused(f"{service}: no rotation under way; run `{command} --service {service} start` first")
    return rotation if rotation.verified_at else replace(rotation, phase="verified", verified_at=now)


def finish_refusals(
    service: str,
    rotation: Rotation | None,
    now: datetime,
    grace: timedelta,
    quiet: timedelta,
    old_last_event: datetime | None,
    *,
    command: str = COMMAND,
) -> list[str]:
    """Why `finish` must not disable the old key now (empty list: it may)."""
    if rotation is None or rotation.phase == "aborted":
        return [f"{service}: no rotation under way; run `{command} --service {service} start` first"]
    if rotation.phase == "finished":
        return []
    reasons = []
    if rotation.verified_at is None:
        reasons.append(
            f"{service}: the new key {rotation.new} is not verified; run `{command} --service {service} verify` "
            "(a real event sent with the new DSN must be read back from Sentry)"
        )
    ready_at = rotation.started_at + grace
    if now < ready_at:
        left = int((ready_at - now).total_seconds())
        reasons.append(
            f"{service}: the grace period is not over ({left}s left, grace {int(grace.total_seconds())}s since "
            f"start at {_iso(rotation.started_at)}); run `{command} --service {service} finish` again after "
            f"{_iso(ready_at)}"
        )
    if old_last_event is not None and now - old_last_event < quiet:
        ago = int((now - old_last_event).total_seconds())
        reasons.append(
            f"{service}: the old key {rotation.old} still receives events (last one {ago}s ago; quiet window "
            f"{int(quiet.total_seconds())}s); find what still sends with the old DSN "
            f"(`{command} --service {service} status`), redeploy it, and run finish again"
        )
    return reasons


def plan_finish(
    keys: ServiceKeys, rotation: Rotation, now: datetime, delete: bool, delete_grace: timedelta
) -> tuple[ServiceKeys, Rotation | None]:
    """Disable the old key; delete it with --delete or once the delete grace has passed."""
    disabled_at = rotation.disabled_at or now
    finished = replace(rotation, phase="finished", disabled_at=disabled_at)
    keys = replace(keys.with_generation(rotation.old, False), current=rotation.new)
    if delete or now - disabled_at >= delete_grace:
        return keys.without(rotation.old), None
    return keys, finished


def plan_abort(service: str, keys: ServiceKeys, rotation: Rotation | None) -> tuple[ServiceKeys, Rotation]:
    if rotation is None or rotation.phase not in ("started", "verified", "aborted"):
        raise RotationRefused(
            f"{service}: nothing to abort (no rotation under way"
            + (", the last one is finished: the old key is already disabled" if rotation else "")
            + ")"
        )
    if not keys.has(rotation.old):
        raise RotationRefused(f"{service}: the old key {rotation.old} is no longer in the stack; cannot go back")
    back = replace(keys.with_generation(rotation.old, True).with_generation(rotation.new, False), current=rotation.old)
    return back, replace(rotation, phase="aborted")


__all__ = [
    "COMMAND",
    "Phase",
    "Rotation",
    "RotationRefused",
    "ServiceKeys",
    "finish_refusals",
    "next_generation",
    "plan_abort",
    "plan_finish",
    "plan_start",
    "plan_verified",
]
