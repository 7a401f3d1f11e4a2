"""What a stack may write to the privacy settings of a project it shares with other stacks (docs/privacy.md).

Scrubbing only goes up by itself: a stack's `up` never lowers a setting below what Sentry has (``dataScrubber``,
``dataScrubberDefaults`` or ``scrubIPAddresses`` from true to false, a field taken out of ``sensitiveFields``, a
field added to ``safeFields``) unless

* no other stack uses the project (no other stack's client key is in it), or
* this stack asked for the stricter value itself on its last `up` (``privacyAsks`` in its own state: the stack
  that asked is the one changing it), and every other stack that uses the project has a valid stack file in this
  checkout that does not ask for it either.

Otherwise the stricter value Sentry has is kept (``privacyKept``) and said, in the `up` and preview output and in
the rendered env files. So a sibling stack file that is invalid, absent from the checkout or edited (but not
applied) can never switch off another stack's scrubbing: what counts is what each stack applied, and Sentry keeps
it. Pure functions; the provider (infra/sentry/project.py) supplies the live project and the other users.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from infra.privacy import UNREADABLE

BOOLS = ("dataScrubber", "dataScrubberDefaults", "scrubIPAddresses")
LISTS = ("sensitiveFields", "safeFields")
FIELDS = (*BOOLS, *LISTS)
DEFAULTS: dict[str, Any] = {"dataScrubber": True, "dataScrubberDefaults": True, "scrubIPAddresses": False}


def _bool(value: Any, name: str) -> bool:
    return bool(DEFAULTS[name] if value is None else value)


def _set(value: Any) -> set[str]:
    return {str(v).strip() for v in value or [] if str(v).strip()}


def asks(settings: Mapping[str, Any]) -> dict[str, Any]:
    """The privacy fields a stack declares, normalised (what its state records as ``privacyAsks``)."""
    out: dict[str, Any] = {}
    for name in FIELDS:
        if settings.get(name) is None:
            continue
        out[name] = _bool(settings[name], name) if name in BOOLS else sorted(_set(settings[name]))
    return out


def recorded_asks(outs: Mapping[str, Any]) -> dict[str, Any] | None:
    """What a stack asked for on its last `up`, from its state: ``privacyAsks``, or (a state written before it
    existed) the privacy fields it last agreed with, which held every stack's strictest ask (so, conservatively,
    it counts as having asked for them); None when neither is there."""
    if isinstance(outs.get("privacyAsks"), Mapping):
        return dict(outs["privacyAsks"])
    agreed = outs.get("agreedSettings")
    return asks(agreed) if isinstance(agreed, Mapping) else None


def _other_wants(others: Mapping[str, Any], stack: str, name: str, item: str | None) -> bool | None:
    """Whether `stack` (another user of the project) asks for the strict side of `name` (/`item`): True, False,
    or None when this checkout cannot tell (no stack file, or an invalid one)."""
    ask = others.get(stack)
    if not isinstance(ask, Mapping):
        return None
    value = ask.get(name)
    if value is None:
        return False
    if name in BOOLS:
        return bool(value)
    if name == "sensitiveFields":
        return item in _set(value)
    return item not in _set(value)  # safeFields: a stack that lists safe fields without `item` wants it scrubbed


def privacy_floor(
    declared: Mapping[str, Any], live: Mapping[str, Any], asked: Mapping[str, Any] | None,
    others: Mapping[str, Any], users: Callable[[], set[str]],
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The privacy settings to write, and those kept stricter than declared: ``(settings, kept)``.

    `declared`: this stack's privacy fields (unset ones are not managed); `live`: the project as Sentry has it;
    `asked`: this stack's ``privacyAsks`` from its last `up` (None: it never applied any); `others`: the other
    stacks' declared privacy fields read from this checkout's stack files (or :data:`UNREADABLE`); `users()`: the
    other stacks that use the project (called only when something would be lowered)."""
    mine = asked or {}
    checked: set[str] | None = None

    def may_lower(name: str, item: str | None = None) -> bool:
        nonlocal checked
        if checked is None:
            checked = users()
        if not checked:
            return True  # nobody else uses the project
        if name in BOOLS:
            asked_it = mine.get(name) is True
        elif name == "sensitiveFields":
            asked_it = item in _set(mine.get(name))
        else:
            asked_it = mine.get(name) is not None and item not in _set(mine.get(name))
        return asked_it and all(_other_wants(others, s, name, item) is False for s in checked)

    settings: dict[str, Any] = {}
    kept: dict[str, Any] = {}
    for name in FIELDS:
        if declared.get(name) is None:
            continue
        if name in BOOLS:
            want, now = _bool(declared[name], name), _bool(live.get(name), name)
            if now and not want and not may_lower(name):
                settings[name] = kept[name] = True
            else:
                settings[name] = want
            continue
        want_set, now_set = _set(declared[name]), _set(live.get(name))
        if name == "sensitiveFields":
            keep = {x for x in now_set - want_set if not may_lower(name, x)}
            value = sorted(want_set | keep, key=str.lower)
        else:
            keep = {x for x in want_set - now_set if not may_lower(name, x)}
            value = sorted(want_set - keep, key=str.lower)
        settings[name] = value
        if keep:
            kept[name] = value
    return settings, kept


def key_users(key_names: list[str], stack: str, known: list[str]) -> set[str]:
    """The other stacks that use a project, from its client keys' names (``<stack>-<generation>``): a known
    stack name when one matches, else the key's name (a stack this checkout has no file for)."""
    out: set[str] = set()
    for name in key_names:
        if not name or name == "Default" or name.startswith(f"{stack}-"):
            continue
        match = next((s for s in sorted(known, key=len, reverse=True) if name.startswith(f"{s}-")), None)
        out.add(match or name.rsplit("-", 1)[0])
    return out


def others_of(props: Mapping[str, Any]) -> dict[str, Any]:
    """The other stacks' privacy asks the program gave a Project (``privacyOthers``)."""
    value = props.get("privacyOthers")
    return dict(value) if isinstance(value, Mapping) else {}


def record_privacy(outs: dict[str, Any], props: Mapping[str, Any], kept: Mapping[str, Any],
                   users: list[str] | None, previous: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The privacy record of a shared project in the stack's state: ``privacyAsks`` (this stack's own fields),
    ``privacyKept`` and ``privacyUsers`` (as found now, else as found before)."""
    outs["privacyAsks"] = asks({k: props.get(k) for k in FIELDS})
    outs["privacyKept"] = dict(kept)
    outs["privacyUsers"] = users if users is not None else list((previous or {}).get("privacyUsers") or [])
    return outs


def describe_kept(kept: Mapping[str, Any], users: list[str]) -> list[str]:
    """One line per kept field, for the `up`/preview output and the env files' comment."""
    by = f"stack {', '.join(users)}" if users else "another stack, or a hand in Sentry"
    return [
        f"privacy.{name} stays {str(value).lower() if isinstance(value, bool) else value} in Sentry: set there by "
        f"{by}; a stack never lowers scrubbing another stack asked for (docs/privacy.md)"
        for name, value in sorted(kept.items())
    ]


__all__ = [
    "BOOLS", "FIELDS", "LISTS", "UNREADABLE", "asks", "describe_kept", "key_users", "others_of", "privacy_floor",
    "record_privacy", "recorded_asks",
]
