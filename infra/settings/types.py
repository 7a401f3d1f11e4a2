"""The settings model's base and its own field types; the constrained types it shares with the Sentry resources
(ranges, patterns, value sets, each with the sentence that says what is allowed) come from :mod:`infra.fields`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, WrapValidator
from pydantic.alias_generators import to_camel

from infra.fields import Bool, Rule, choice, number, one_of_numbers, range_rule, rule_error, text, whole


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


#: a sample rate
Rate = Annotated[float, number(0, 1, rule="a number from 0 to 1 (a sample rate)")]


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
