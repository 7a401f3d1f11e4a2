"""The real stack files as config dicts, for tests of settings, rendering and the program."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

from infra.settings import StackSettings, load_settings, project_defaults, with_defaults

ROOT = Path(__file__).resolve().parents[2]
RELEASE = "0123abc"
SENTRY = {
    "sentry:baseUrl": "https://sentry.example.com",
    "sentry:organization": "acme",
    "sentry-stacks:team": "platform",
}
#: fixed DSNs per service for rendering (public-key-only DSNs, as Sentry hands them out)
DSNS = {
    "backend": "https://0123456789abcdef0123456789abcdef@o1.ingest.example.com/11",
    "frontend": "https://fedcba9876543210fedcba9876543210@o1.ingest.example.com/12",
}


def stack_config(stack: str, **overrides: Any) -> dict[str, Any]:
    """Pulumi.yaml defaults + Pulumi.<stack>.yaml + a Sentry connection, as full keys; `overrides` use
    short keys (``driver``) for ``sentry-stacks:`` and full keys (``sentry:baseUrl``) otherwise; None removes."""
    config = with_defaults(
        yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text(encoding="utf-8"))["config"],
        project_defaults(ROOT / "Pulumi.yaml"),
    )
    config = copy.deepcopy(config)
    config.update(SENTRY)
    for key, value in overrides.items():
        full = key if ":" in key else f"sentry-stacks:{key}"
        if value is None:
            config.pop(full, None)
        else:
            config[full] = value
    return config


def settings_for(stack: str, root: Path = ROOT, **overrides: Any) -> StackSettings:
    return load_settings(
        stack_config(stack, **overrides), stack=stack, git_release=lambda: RELEASE, root=root, environ={}
    )
