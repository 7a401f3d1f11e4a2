"""The variables contract shared with the runtime packages (``packages/contract.json``): which variables a service
reads, which of them may be public and under which prefix, what each framework is and which Sentry platforms imply
it. The toolkit renders from it and restates none of it.

A source checkout reads ``packages/contract.json``; the toolkit's wheel carries the same file as
``infra/contract.json`` (pyproject.toml). A leaf module.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

_HERE = Path(__file__).resolve().parent
_PLACES = (_HERE / "contract.json", _HERE.parent / "packages" / "contract.json")
#: platforms whose SDK is JavaScript (for the framework ``other``)
_JAVASCRIPT_PLATFORMS = ("javascript", "node", "bun", "deno")
#: the SDK of a platform without a runtime package here (Go, Ruby, Java, PHP, .NET...): the variables without ``sdks``
FOREIGN = "foreign"


@lru_cache(maxsize=1)
def contract() -> dict[str, Any]:
    """The parsed contract."""
    for path in _PLACES:
        if path.is_file():
            data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
            return data
    raise FileNotFoundError(f"the variables contract is missing: none of {', '.join(map(str, _PLACES))}")


def frameworks() -> tuple[str, ...]:
    """What a service can be (``services.<name>.framework``), in the contract's order."""
    return tuple(contract()["frameworks"])


def framework_of(platform: str) -> str | None:
    """The framework a Sentry platform id implies, or None when it implies none (``javascript``, ``python``...)."""
    for name, entry in contract()["frameworks"].items():
        if platform in entry["platforms"]:
            return str(name)
    return None


def sdk_of(framework: str, platform: str) -> str:
    """The SDK a service of `framework` runs (``other``: by its platform): ``python`` or ``javascript``, whose runtime
    packages read the environment, or :data:`FOREIGN` for a platform of another language (``go``, ``ruby-rails``,
    ``java-spring-boot``...), whose own SDK and code read it. Without a platform (no Sentry): ``python``."""
    sdk = contract()["frameworks"][framework]["sdk"]
    if sdk is not None:
        return str(sdk)
    return platform_sdk(platform) or (FOREIGN if platform else "python")


def platform_sdk(platform: str) -> str | None:
    """The SDK a platform id names by its language (python-*, javascript-*, node-*...), None for other languages."""
    head = platform.split("-")[0]
    return "javascript" if head in _JAVASCRIPT_PLATFORMS else "python" if head == "python" else None


def value_shape(sdk: str) -> str:
    """The SDK whose shape a service's JSON values take (``SENTRY_DATA_COLLECTION``, the cron monitors' config): its
    own, and sentry-python's for a foreign SDK (whose code maps them)."""
    return "javascript" if sdk == "javascript" else "python"


def foreign_language(sdk: str, platform: str | None) -> str | None:
    """The language of a foreign SDK, by its platform (``go``; ``ruby`` for ruby-rails, ``java`` for
    java-spring-boot...); None for the runtime packages' SDKs."""
    return platform.split("-")[0] if sdk == FOREIGN and platform else None


def public_prefix(framework: str) -> str | None:
    """The prefix of the browser's copies for `framework` (``PUBLIC_``, ``NEXT_PUBLIC_``...), None without one."""
    prefix = contract()["publicPrefixes"].get(framework)
    return str(prefix) if prefix else None


def read_names(sdk: str) -> tuple[str, ...]:
    """The variables the process of a service running `sdk` reads, rendered or not (``sdks``: only those SDKs)."""
    return tuple(str(v["name"]) for v in contract()["variables"] if v["server"] and sdk in v.get("sdks", (sdk,)))


def server_names(sdk: str) -> tuple[str, ...]:
    """The variables the toolkit renders for the process of a service running `sdk`: for a foreign SDK only those
    its own code can use, never one that only a runtime package reads."""
    rendered = {str(v["name"]) for v in contract()["variables"] if v["rendered"]}
    return tuple(name for name in read_names(sdk) if name in rendered)


def public_names() -> tuple[str, ...]:
    """The variables that may have a public copy (without a prefix): nothing else ever becomes public."""
    return tuple(str(v["name"]) for v in contract()["variables"] if v["public"])


def rendered_public_names() -> tuple[str, ...]:
    """The public variables the toolkit renders (the browser's copies)."""
    return tuple(str(v["name"]) for v in contract()["variables"] if v["public"] and v["rendered"])


def development_environments() -> frozenset[str]:
    """Environments in which the runtime packages log events instead of sending them, unless told otherwise."""
    return frozenset(str(e) for e in contract()["developmentEnvironments"])


__all__ = [
    "FOREIGN", "contract", "development_environments", "foreign_language", "framework_of", "frameworks", "platform_sdk",
    "public_names", "public_prefix", "read_names", "rendered_public_names", "sdk_of", "server_names", "value_shape",
]  # fmt: skip
