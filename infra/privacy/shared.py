"""Privacy of a Sentry project shared by several stacks: this stack's asks, the other stacks' asks read from their
stack files, and what this stack writes.

In a project shared by several stacks the strictest value any stack applied wins: a stack writes its own asks, and
its `up` never lowers what Sentry has below another stack's ask (infra/sentry/privacy_floor.py, docs/privacy.md);
:func:`sibling_privacy` reads the other stacks' asks from their files for that decision, :func:`shared_privacy`
keeps them with a warning for each file that cannot be read.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from infra.privacy.model import ProjectPrivacy, StackPrivacy
from infra.privacy.problems import PrivacyProblem, problems_from

#: ``SharedPrivacy.others`` entry of a stack whose file is in the checkout but whose privacy settings are not valid
UNREADABLE = "unreadable"
_BLOCK_KEYS = ("privacy", "projectMode")


def _cheap_config(text: str, project: str) -> dict[str, Any] | None:
    """The ``<project>:privacy`` and ``<project>:projectMode`` values (full keys) of a stack file in block style,
    parsing only their lines (a stack file may hold megabytes of other config); None when the file is written in
    a way this does not follow (the caller parses it whole)."""
    import yaml

    wanted = tuple(f"{project}:{k}:" for k in _BLOCK_KEYS)
    if not any(w in text for w in wanted):
        return {}
    lines = text.splitlines()
    out: dict[str, Any] = {}
    for i, line in enumerate(lines):
        stripped = line.lstrip()
        if not stripped.startswith(wanted):
            continue
        indent = len(line) - len(stripped)
        block = [stripped]
        for nxt in lines[i + 1:]:
            if nxt.strip() and (len(nxt) - len(nxt.lstrip())) <= indent:
                break
            block.append(nxt[indent:] if len(nxt) >= indent else nxt)
        try:
            data = yaml.safe_load("\n".join(block))
        except yaml.YAMLError:
            return None
        if not isinstance(data, dict):
            return None
        out.update(data)
    return out


def sibling_privacy(root: Path, project: str, stack: str) -> dict[str, ProjectPrivacy | PrivacyProblem]:
    """The ``privacy`` settings of the other stacks of this Pulumi project that share its projects.

    Read from each ``Pulumi.<stack>.yaml`` next to ``Pulumi.yaml`` (defaults from ``Pulumi.yaml``), parsing only the
    two keys it needs; stacks in ``per-environment`` mode are left out. A stack whose file or privacy settings are
    not valid is not skipped: it comes back as a :class:`PrivacyProblem` naming the file and the key."""
    import yaml

    def config_of(path: Path) -> dict[str, Any] | PrivacyProblem:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            return PrivacyProblem(path.name, None, f"cannot be read: {exc.strerror or exc}")
        cheap = _cheap_config(text, project)
        if cheap is not None:
            return cheap
        try:
            data = yaml.safe_load(text) or {}
        except yaml.YAMLError as exc:
            return PrivacyProblem(path.name, None, f"is not valid YAML: {' '.join(str(exc).split())[:200]}")
        config = data.get("config") if isinstance(data, dict) else None
        return dict(config) if isinstance(config, dict) else {}

    defaults: dict[str, Any] = {}
    try:
        base = yaml.safe_load((root / "Pulumi.yaml").read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        base = {}
    for key, decl in (base.get("config") or {}).items() if isinstance(base, dict) else ():
        full = key if ":" in key else f"{project}:{key}"
        defaults[full] = decl.get("default", decl.get("value")) if isinstance(decl, dict) else decl
    out: dict[str, ProjectPrivacy | PrivacyProblem] = {}
    for path in sorted(root.glob("Pulumi.*.yaml")):
        name = path.name[len("Pulumi.") : -len(".yaml")]
        if name == stack:
            continue
        found = config_of(path)
        if isinstance(found, PrivacyProblem):
            out[name] = found
            continue
        config = {**defaults, **found}
        if str(config.get(f"{project}:projectMode") or "shared") != "shared":
            continue
        value = config.get(f"{project}:privacy")
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                out[name] = PrivacyProblem(f"{path.name}: {project}:privacy", value, "must be an object")
                continue
        try:
            out[name] = ProjectPrivacy.model_validate(value or {})
        except ValidationError as exc:
            first = problems_from(exc)[0]
            key = f"{project}:privacy" + (f".{first.key}" if first.key else "")
            out[name] = PrivacyProblem(f"{path.name}: {key}", first.value, first.message)
    return out


@dataclass(frozen=True)
class SharedPrivacy:
    """A shared project's privacy as this stack sees it: ``values``, the fields this stack asks for (its own
    declaration: what it writes); ``others``, every other stack's declared fields as read from this checkout
    (:data:`UNREADABLE` for a stack whose file is not valid), which the provider consults before it lowers a
    setting this stack asked for (infra/sentry/privacy_floor.py); ``notes``, what the preview says about them."""

    values: dict[str, Any]
    others: dict[str, Any]
    notes: tuple[str, ...]


def shared_privacy(stack: str, own: ProjectPrivacy,
                   siblings: Mapping[str, ProjectPrivacy | PrivacyProblem]) -> SharedPrivacy:
    """This stack's asks, the other stacks' asks, and a warning per sibling file whose privacy cannot be read
    (Sentry then keeps whatever scrubbing that stack applied: nothing is lowered on its behalf)."""
    others: dict[str, Any] = {}
    notes: list[str] = []
    for name, found in sorted(siblings.items()):
        if name == stack:
            continue
        if isinstance(found, PrivacyProblem):
            others[name] = UNREADABLE
            value = "" if found.value is None else f" = {json.dumps(found.value, default=str)[:80]}"
            notes.append(
                f"{found.key}{value}: {found.message}. Stack {name} shares this stack's Sentry projects and its "
                f"privacy settings cannot be read: this stack lowers no scrubbing on its behalf (Sentry keeps what "
                f"{name} applied); fix the file, or delete it if stack {name} is gone"
            )
            continue
        others[name] = found.declared()
    return SharedPrivacy(own.declared(), others, tuple(notes))


def project_values(sp: StackPrivacy, shared: SharedPrivacy | None) -> dict[str, Any]:
    """The privacy fields this stack asks its projects to have (Sentry PUT keys)."""
    return dict(shared.values) if shared is not None else sp.privacy.declared()


__all__ = ["UNREADABLE", "SharedPrivacy", "project_values", "shared_privacy", "sibling_privacy"]
