"""Field types of the settings model: each carries its constraint (for the JSON Schema) and the sentence that
says what is allowed (for the messages), so a rule is written once.

Config arrives as Pulumi hands it over: a value set with ``pulumi config set --path`` is a string, so numbers
and booleans are also accepted as their text (``"8000"``, ``"true"``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator, Sequence
from typing import Annotated, Any

from annotated_types import GroupedMetadata
from pydantic import BaseModel, ConfigDict, Field, ValidationError, WrapValidator
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError

from infra.settings.problems import rule_error, suggest


class Model(BaseModel):
    """Base of every settings object: camelCase keys, unknown keys refused, frozen."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        frozen=True,
        regex_engine="python-re",
        use_attribute_docstrings=False,
    )


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


#: a sample rate
Rate = Annotated[float, number(0, 1, rule="a number from 0 to 1 (a sample rate)")]


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


def choice(values: Sequence[str]) -> Rule:
    """One of `values` (``Annotated[str, choice(...)]``); a near miss gets a suggestion."""

    def validate(value: Any, handler: Callable[[Any], Any]) -> Any:
        if isinstance(value, str) and value in values:
            return handler(value)
        raise PydanticCustomError(
            "rule", "unknown value; {hint}allowed: {allowed}",
            {"hint": suggest(value, values), "allowed": ", ".join(values)},
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


def scalar_text(value: Any) -> str | None:
    """A string, number or boolean as the text an environment variable gets; None for anything else."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | str):
        return str(value)
    return None


def _scalar(value: Any, handler: Callable[[Any], Any]) -> Any:
    string = scalar_text(value)
    if string is None:
        raise rule_error("a string, number or boolean")
    return handler(string)


#: an environment variable's or label's value
Scalar = Annotated[str, WrapValidator(_scalar), Field(json_schema_extra={"type": ["string", "number", "boolean"]})]


def name_map(key_rule: str, key_pattern: re.Pattern[str], what: str) -> Rule:
    """A map of names (matching `key_pattern`) to scalar values (as text)."""

    def validate(value: Any, handler: Callable[[Any], Any]) -> Any:
        if not isinstance(value, dict):
            raise rule_error(what)
        from infra.settings.problems import Issue, fail

        bad = [Issue((str(k),), v, f"bad name '{k}': must be {key_rule}") for k, v in value.items()
               if not key_pattern.match(str(k))]
        bad += [Issue((str(k),), v, "must be a string, number or boolean") for k, v in value.items()
                if key_pattern.match(str(k)) and scalar_text(v) is None]
        if bad:
            fail(*bad)
        return handler({str(k): scalar_text(v) for k, v in value.items()})

    schema: Any = {"propertyNames": {"pattern": key_pattern.pattern}}
    return Rule(WrapValidator(validate), Field(json_schema_extra=schema))


__all__ = [
    "Bool",
    "Model",
    "Rate",
    "Rule",
    "Scalar",
    "choice",
    "name_map",
    "number",
    "one_of_numbers",
    "range_rule",
    "scalar_text",
    "text",
    "whole",
]
