"""The variables contract shared with the toolkit and the JavaScript package (packages/contract.json).

The wheel carries the file as package data; a source checkout reads it from ``packages/contract.json``.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

_SOURCE_COPY = Path(__file__).resolve().parents[3] / "contract.json"


@lru_cache(maxsize=1)
def contract() -> dict[str, Any]:
    """The parsed contract.json."""
    try:
        text = resources.files(__package__).joinpath("contract.json").read_text(encoding="utf-8")
    except (FileNotFoundError, OSError):
        text = _SOURCE_COPY.read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def variable(name: str) -> dict[str, Any]:
    """One variable's entry; KeyError for a name outside the contract."""
    for entry in contract()["variables"]:
        if entry["name"] == name:
            return dict(entry)
    raise KeyError(name)


def variable_names() -> tuple[str, ...]:
    return tuple(str(v["name"]) for v in contract()["variables"])


def public_names(prefix: str) -> tuple[str, ...]:
    """The browser's copies under a framework's public prefix: the only names that are ever public."""
    return tuple(f"{prefix}{v['name']}" for v in contract()["variables"] if v["public"])


def development_environments() -> frozenset[str]:
    return frozenset(str(e) for e in contract()["developmentEnvironments"])


def health_paths() -> frozenset[str]:
    return frozenset(str(p) for p in contract()["healthPaths"])


def boolean_words() -> tuple[frozenset[str], frozenset[str]]:
    words = contract()["booleans"]
    return frozenset(words["true"]), frozenset(words["false"])


__all__ = [
    "boolean_words", "contract", "development_environments", "health_paths", "public_names", "variable",
    "variable_names",
]  # fmt: skip
