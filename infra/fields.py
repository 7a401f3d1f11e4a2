"""Constrained field types, each declared once: the settings model and the Sentry resources' inputs both use them.

A type carries its constraint (for the JSON Schema of the stack files and the provider's schema) and the sentence
that says what is allowed (for the messages), so a range, a pattern or a value set is written in one place:
``ResolveAgeHours`` is what ``services.<name>.sentry.resolveAgeHours`` accepts and what a Project's ``resolveAge``
input accepts. Defaults that the settings and the resources share are constants here too (``DEFAULT_KEY_POLICY``).

Config arrives as Pulumi hands it over: a value set with ``pulumi config set --path`` is a string, so numbers and
booleans are also accepted as their text (``"8000"``, ``"true"``). A leaf module: pydantic, the standard library
and :mod:`infra.vocabulary` only.
"""

from __future__ import annotations

import difflib
import math
import re
import types
import typing
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Annotated, Any, Literal, get_args, get_origin

from annotated_types import GroupedMetadata
from pydantic import Field, ValidationError, WrapValidator
from pydantic_core import PydanticCustomError

from infra.vocabulary import (
    ACTION_TYPES,
    COMPARISON_DELTAS,
    DATASETS,
    DEFAULT_KEY_POLICIES,
    DETECTION_TYPES,
    DIST_RE,
    DIST_RULE,
    EVENT_TYPES,
    FILTER_IDS,
    FREQUENCIES,
    LOGIC_TYPES,
    MONITOR_CONDITION_TYPES,
    MONITOR_RESULTS,
    MONITOR_WINDOWS,
    OWNER_RE,
    PLATFORMS,
    PROJECT_NAME_MAX,
    PROJECT_SLUG_MAX,
    SLUG_RE,
    SLUG_RULE,
    SUBFILTERS,
    TARGET_TYPES,
    TEAM_SLUG_MAX,
    URL_PREFIX_RE,
    URL_PREFIX_RULE,
    WEBHOOK_URL_RE,
)


def type_options(tp: Any) -> list[Any]:
    """The types a field annotated `tp` may hold: ``Annotated`` unwrapped, unions split, None left out."""
    origin = get_origin(tp)
    if origin is Annotated:
        return type_options(get_args(tp)[0])
    if origin in (typing.Union, types.UnionType):
        return [o for a in get_args(tp) if a is not type(None) for o in type_options(a)]
    return [tp]


def rule_error(rule: str) -> PydanticCustomError:
    return PydanticCustomError("rule", "must be {rule}", {"rule": rule})


def suggest(value: Any, allowed: Iterable[str]) -> str:
    """``did you mean 'x'? `` for a near miss, else ``''``."""
    close = difflib.get_close_matches(str(value), list(allowed), n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'? " if close else ""


class Rule(GroupedMetadata):
    """Annotated metadata: the JSON Schema constraint and the validator with its message, as one item
    (``Annotated[int, whole(1, 65535)]``)."""

    def __init__(self, *items: Any) -> None:
        self.items = items

    def __iter__(self) -> Iterator[Any]:
        return iter(self.items)


def range_rule(low: float | None, high: float | None, integer: bool) -> str:
    kind = "a whole number" if integer else "a number"

    def fmt(x: float) -> str:
        return str(int(x)) if float(x).is_integer() else str(x)

    if low is not None and high is not None:
        return f"{kind} from {fmt(low)} to {fmt(high)}"
    if low is not None:
        return f"{kind} >= {fmt(low)}"
    if high is not None:
        return f"{kind} <= {fmt(high)}"
    return kind


def _number(low: float | None, high: float | None, integer: bool, rule: str) -> Callable[[Any, Any], Any]:
    def validate(value: Any, handler: Callable[[Any], Any]) -> Any:
        parsed: float | None = None
        if isinstance(value, bool):
            parsed = None
        elif isinstance(value, int | float):
            parsed = float(value)
        elif isinstance(value, str):
            try:
                parsed = float(value.strip())
            except ValueError:
                parsed = None
        if parsed is None or not math.isfinite(parsed) or (integer and not parsed.is_integer()):
            raise rule_error(rule)
        if (low is not None and parsed < low) or (high is not None and parsed > high):
            raise rule_error(rule)
        if integer:
            return handler(int(parsed))
        # a number stays as written (100 stays an int, shown as 100), text becomes a float
        return value if isinstance(value, int | float) else handler(parsed)

    return validate


def whole(low: int | None = None, high: int | None = None, *, rule: str | None = None) -> Rule:
    """An integer in [low, high] (``Annotated[int, whole(...)]``)."""
    text = rule or range_rule(low, high, True)
    return Rule(Field(ge=low, le=high), WrapValidator(_number(low, high, True, text)))


def number(low: float | None = None, high: float | None = None, *, rule: str | None = None) -> Rule:
    """A number in [low, high] (``Annotated[float, number(...)]``)."""
    text = rule or range_rule(low, high, False)
    return Rule(Field(ge=low, le=high), WrapValidator(_number(low, high, False, text)))


def _boolean(value: Any, handler: Callable[[Any], Any]) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise rule_error("a boolean: true or false")


Bool = Annotated[bool, WrapValidator(_boolean)]


def one_of_numbers(values: Sequence[int], rule: str | None = None) -> Rule:
    """An integer from a fixed set (Sentry's windows, frequencies...)."""
    text = rule or f"one of {', '.join(map(str, values))}"

    def validate(value: Any, handler: Callable[[Any], Any]) -> Any:
        parsed = _number(None, None, True, text)(value, lambda v: v)
        if parsed not in values:
            raise rule_error(text)
        return handler(parsed)

    return Rule(Field(json_schema_extra={"enum": list(values)}), WrapValidator(validate))


def choice(values: Sequence[str], hint: Callable[[str], str] | None = None) -> Rule:
    """One of `values` (``Annotated[str, choice(...)]``); a near miss gets a suggestion, anything else what `hint`
    says of it (``"…; "``, or ``""``)."""

    def validate(value: Any, handler: Callable[[Any], Any]) -> Any:
        if isinstance(value, str) and value in values:
            return handler(value)
        said = suggest(value, values) or (hint(str(value)) if hint is not None else "")
        raise PydanticCustomError(
            "rule", "unknown value; {hint}allowed: {allowed}", {"hint": said, "allowed": ", ".join(values)}
        )

    return Rule(Field(json_schema_extra={"enum": list(values)}), WrapValidator(validate))


def text(
    rule: str = "a non-empty string",
    *,
    pattern: str | re.Pattern[str] | None = None,
    max_len: int | None = None,
    allow_empty: bool = False,
    check: Callable[[str], bool] | None = None,
) -> Rule:
    """A string (numbers given for it are taken as text) matching `pattern`, at most `max_len` long."""
    regex = re.compile(pattern) if isinstance(pattern, str) else pattern

    def validate(value: Any, handler: Callable[[Any], Any]) -> Any:
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise rule_error(rule)
        string = str(value)
        if (not string.strip() and not allow_empty) or (regex is not None and not regex.match(string)):
            raise rule_error(rule)
        if check is not None and not check(string):
            raise rule_error(rule)
        if max_len is not None and len(string) > max_len:
            raise PydanticCustomError(
                "rule", "must be at most {max} characters long ({rule})", {"max": max_len, "rule": rule}
            )
        try:
            return handler(string)
        except ValidationError:
            raise rule_error(rule) from None

    constraints = Field(
        pattern=regex.pattern if regex is not None else None,
        max_length=max_len,
        min_length=None if allow_empty else 1,
    )
    return Rule(constraints, WrapValidator(validate))


# --------------------------------------------------------------------------- Sentry's fields, shared


def _platform(value: Any, handler: Callable[[Any], Any]) -> Any:
    if isinstance(value, str) and value in PLATFORMS:
        return handler(value)
    close = difflib.get_close_matches(str(value), sorted(PLATFORMS), n=3, cutoff=0.6)
    hint = f"did you mean {' or '.join(repr(c) for c in close)}? " if close else ""
    raise PydanticCustomError(
        "rule", "unknown Sentry platform id; {hint}allowed: Sentry's platform ids"
        " (python, python-django, python-celery, javascript, javascript-react, node, go, java, ..., other)",
        {"hint": hint},
    )


#: a project slug (at most 100)
ProjectSlug = Annotated[str, text(SLUG_RULE, pattern=SLUG_RE, max_len=PROJECT_SLUG_MAX)]
#: an organization or team slug (at most 50)
TeamSlug = Annotated[str, text(SLUG_RULE, pattern=SLUG_RE, max_len=TEAM_SLUG_MAX)]
ProjectName = Annotated[str, text("a display name", max_len=PROJECT_NAME_MAX)]
Platform = Annotated[str, WrapValidator(_platform), Field(json_schema_extra={"enum": sorted(PLATFORMS)})]
#: hours without a new event after which Sentry resolves an issue (0 = never)
ResolveAgeHours = Annotated[int, whole(0, 8760)]
SubjectPrefix = Annotated[str, text("a string", max_len=200, allow_empty=True)]
AllowedDomain = Annotated[str, text("a non-empty domain")]
DefaultKeyPolicy = Literal["keep", "deactivate", "delete"]
KeyPolicy = Annotated[DefaultKeyPolicy, choice(DEFAULT_KEY_POLICIES)]
#: what a stack does with the "Default" key Sentry creates with a project, unless it says otherwise
DEFAULT_KEY_POLICY: DefaultKeyPolicy = "delete"
#: whether a stack keeps the default alert Sentry creates with a project, unless it says otherwise
DEFAULT_ALERT = False
Owner = Annotated[str, text("team:<id> or user:<id>", pattern=OWNER_RE)]
ENV_NAME_BAD = re.compile(r"[\n\r\f/]")
ENV_RULE = "a Sentry environment name: 1-64 characters, no '/', no line breaks, not 'None', no surrounding spaces"


def _env_ok(value: str) -> bool:
    return not ENV_NAME_BAD.search(value) and value != "None" and value == value.strip()


EnvName = Annotated[str, text(ENV_RULE, max_len=64, check=_env_ok)]
RELEASE_BAD = re.compile(r"[\n\r\t\f\v/\\]")
RELEASE_RULE = ("a Sentry release: 1-200 characters, no '/', '\\', tabs or line breaks, not '.', '..' or 'latest',"
                " no surrounding spaces")


def _release_ok(value: str) -> bool:
    return not RELEASE_BAD.search(value) and value not in (".", "..", "latest") and value == value.strip()


ReleaseVersion = Annotated[str, text(RELEASE_RULE, max_len=200, check=_release_ok)]
HttpUrl = Annotated[str, text("an http(s) URL", pattern=r"^https?://\S+$", max_len=200)]
BrowserSdkVersion = Annotated[str, text("a loader SDK version such as '8.x' or 'latest'",
                                        pattern=r"^([0-9]+\.x|latest)$")]
RateCount = Annotated[int, whole(1)]
RateWindow = Annotated[int, whole(1, 86400)]
# inbound filters
FilterId = Annotated[str, choice(FILTER_IDS)]
Subfilter = Annotated[str, choice(SUBFILTERS)]
# alerts (workflows)
ActionType = Annotated[str, choice(ACTION_TYPES)]
TargetType = Annotated[str, choice(TARGET_TYPES)]
LogicType = Annotated[str, choice(LOGIC_TYPES)]
Frequency = Annotated[int, one_of_numbers(FREQUENCIES)]
# metric monitors (detectors)
Dataset = Annotated[str, choice(DATASETS)]
MONITOR_WINDOWS_RULE = f"one of Sentry's monitor windows, in seconds: {', '.join(map(str, MONITOR_WINDOWS))}"
MonitorWindow = Annotated[int, one_of_numbers(MONITOR_WINDOWS, rule=MONITOR_WINDOWS_RULE)]
DetectionType = Annotated[str, choice(DETECTION_TYPES)]
ComparisonDelta = Annotated[int, one_of_numbers(COMPARISON_DELTAS)]
MonitorConditionType = Annotated[str, choice(MONITOR_CONDITION_TYPES)]
MonitorResult = Annotated[int, one_of_numbers(MONITOR_RESULTS, rule="75 (high priority), 50 (low) or 0 (resolved)")]
Threshold = Annotated[float, number()]
EventType = Annotated[str, choice(EVENT_TYPES)]
AggregateText = Annotated[str, text("an aggregate such as count() or p95(transaction.duration)", max_len=256)]
QueryText = Annotated[str, text("an event search query", allow_empty=True, max_len=1000)]
Description = Annotated[str, text("a string", max_len=1000)]
#: a webhook action's callback URL (the WebHooks plugin POSTs to it)
WebhookUrl = Annotated[str, text("an http(s) URL", pattern=WEBHOOK_URL_RE)]
#: where a build's files are served (sentry-cli's --url-prefix)
UrlPrefix = Annotated[str, text(URL_PREFIX_RULE, pattern=URL_PREFIX_RE)]
#: a release's distribution
Dist = Annotated[str, text(DIST_RULE, pattern=DIST_RE)]
#: a build's content hash (hex SHA-256 of the files sentry-cli uploads)
BundleHash = Annotated[str, text("a hex SHA-256 of the build's files", pattern=r"^[0-9a-f]{64}$")]

__all__ = [
    "DEFAULT_ALERT",
    "DEFAULT_KEY_POLICY",
    "ENV_RULE",
    "MONITOR_WINDOWS_RULE",
    "RELEASE_RULE",
    "ActionType",
    "AggregateText",
    "AllowedDomain",
    "Bool",
    "BrowserSdkVersion",
    "BundleHash",
    "ComparisonDelta",
    "Dataset",
    "DefaultKeyPolicy",
    "Description",
    "DetectionType",
    "Dist",
    "EnvName",
    "EventType",
    "FilterId",
    "Frequency",
    "HttpUrl",
    "KeyPolicy",
    "LogicType",
    "MonitorConditionType",
    "MonitorResult",
    "MonitorWindow",
    "Owner",
    "Platform",
    "ProjectName",
    "ProjectSlug",
    "QueryText",
    "RateCount",
    "RateWindow",
    "ReleaseVersion",
    "ResolveAgeHours",
    "Rule",
    "Subfilter",
    "SubjectPrefix",
    "TargetType",
    "TeamSlug",
    "Threshold",
    "UrlPrefix",
    "WebhookUrl",
    "choice",
    "number",
    "one_of_numbers",
    "range_rule",
    "rule_error",
    "suggest",
    "text",
    "type_options",
    "whole",
]
