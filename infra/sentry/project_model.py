"""Pure conversion for the Project resource: inputs, Sentry bodies, normalisation, comparison."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from infra.sentry.base import PROVIDER_KEY
from infra.sentry.compare import as_int
from infra.vocabulary import DEFAULT_KEY_POLICIES
from infra.vocabulary import PLATFORMS as _PLATFORMS

# Sentry's platform ids and key policies come from the one vocabulary module.
PLATFORMS: tuple[str, ...] = tuple(sorted(_PLATFORMS))
DefaultKeyPolicy = Literal["keep", "deactivate", "delete"]

# Settings written with PUT /projects/{org}/{slug}/ (the request key is the output key).
SETTINGS: dict[str, str] = {
    "name": "str",
    "platform": "str",
    "resolveAge": "int",
    "allowedDomains": "list",
    "subjectPrefix": "str",
    "subjectTemplate": "str",
    "digestsMinDelay": "int",
    "digestsMaxDelay": "int",
    "scrubIPAddresses": "bool",
    "dataScrubber": "bool",
    "dataScrubberDefaults": "bool",
    "sensitiveFields": "list",
    "safeFields": "list",
    "scrapeJavaScript": "bool",
}
UNORDERED = frozenset({"allowedDomains", "sensitiveFields", "safeFields", "teams"})
# Sentry's defaults of the privacy booleans: an answer without them (null, or left out) means these
PRIVACY_DEFAULTS = {"dataScrubber": True, "dataScrubberDefaults": True, "scrubIPAddresses": False}
# Inputs that only steer the provider (no Sentry field).
FLAGS = ("shared", "deleteOnDestroy", "adopt", "defaultKey", "defaultRules", "stack")
# privacyAsks: this stack's own privacy fields when it last applied them; privacyKept: fields Sentry keeps stricter
# than this stack asks; privacyUsers: the other stacks that used the project then (infra/sentry/privacy_floor.py)
COMPUTED = ("projectId", "organization", "adopted", "dateCreated", "agreedSettings", "privacyAsks", "privacyKept",
            "privacyUsers")
INPUT_KEYS = ("slug", "teams", *SETTINGS, *FLAGS)


def normalise(key: str, value: Any) -> Any:
    """A value in the form used for comparison: unordered lists sorted, absent defaults filled."""
    if key in UNORDERED:
        return sorted(str(v).strip() for v in (value or []) if str(v).strip())
    if key in PRIVACY_DEFAULTS:
        return PRIVACY_DEFAULTS[key] if value is None else bool(value)
    if key == "resolveAge":
        return as_int(value or 0)
    if key in ("platform", "subjectPrefix"):
        return value or ""
    if key in ("digestsMinDelay", "digestsMaxDelay") and value is not None:
        return as_int(value)
    return value


@dataclass(frozen=True)
class ProjectInputs:
    """Checked inputs of a Project. ``settings`` holds only the declared SETTINGS (incl. name)."""

    slug: str
    teams: tuple[str, ...]
    settings: dict[str, Any] = field(default_factory=dict)
    shared: bool = False
    delete_on_destroy: bool = True
    adopt: bool = False
    default_key: DefaultKeyPolicy = "keep"
    default_rules: bool = True
    stack: str = ""

    @property
    def name(self) -> str:
        return str(self.settings.get("name") or self.slug)

    @staticmethod
    def from_props(props: Mapping[str, Any]) -> ProjectInputs:
        shared = bool(props.get("shared", False))
        policy = str(props.get("defaultKey") or "keep")
        return ProjectInputs(
            slug=str(props["slug"]),
            teams=tuple(str(t) for t in props.get("teams") or ()),
            settings={k: props[k] for k in SETTINGS if props.get(k) is not None},
            shared=shared,
            delete_on_destroy=bool(props.get("deleteOnDestroy", not shared)),
            adopt=bool(props.get("adopt", False)),
            default_key=policy if policy in DEFAULT_KEY_POLICIES else "keep",  # type: ignore[arg-type]
            default_rules=bool(props.get("defaultRules", True)),
            stack=str(props.get("stack") or ""),
        )

    def to_props(self) -> dict[str, Any]:
        return {
            "slug": self.slug,
            "teams": list(self.teams),
            **self.settings,
            "shared": self.shared,
            "deleteOnDestroy": self.delete_on_destroy,
            "adopt": self.adopt,
            "defaultKey": self.default_key,
            "defaultRules": self.default_rules,
            "stack": self.stack,
        }

    def create_body(self) -> dict[str, Any]:
        """Body of POST /teams/{org}/{team}/projects/."""
        body: dict[str, Any] = {"name": self.name, "slug": self.slug, "default_rules": self.default_rules}
        if self.settings.get("platform"):
            body["platform"] = self.settings["platform"]
        return body

    def to_body(self, live: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """PUT body with the declared settings (and slug) that differ from `live` (all when None)."""
        wanted: dict[str, Any] = {"slug": self.slug, **self.settings}
        if live is None:
            return wanted
        current = live_values(live)
        return {k: v for k, v in wanted.items() if normalise(k, v) != normalise(k, current.get(k))}

    def agreed(self) -> dict[str, Any]:
        """The declared settings and teams, normalised: what this stack agrees the shared project has."""
        return {k: normalise(k, v) for k, v in {**self.settings, "teams": list(self.teams)}.items()}

    def conflicts(self, live: Mapping[str, Any], agreed: Mapping[str, Any]) -> dict[str, tuple[Any, Any]]:
        """Differences from `live` on settings that changed in Sentry since this stack last agreed on them
        (another stack sharing the project, or a hand, changed them): writing those would start a tug of war."""
        return {
            k: (live_v, want) for k, (live_v, want) in self.differences(live).items()
            if k in agreed and normalise(k, live_v) != normalise(k, agreed[k])
        }

    def differences(self, live: Mapping[str, Any]) -> dict[str, tuple[Any, Any]]:
        """Declared settings and teams that differ from the live project: key -> (live, declared)."""
        current = live_values(live)
        wanted: dict[str, Any] = {**self.settings, "teams": list(self.teams)}
        return {
            k: (current.get(k), v) for k, v in wanted.items() if normalise(k, v) != normalise(k, current.get(k))
        }


def live_values(project: Mapping[str, Any]) -> dict[str, Any]:
    """The managed fields of a Sentry project JSON (detailed shape)."""
    values = {k: project.get(k) for k in SETTINGS}
    values["slug"] = project.get("slug")
    values["teams"] = sorted(str(t.get("slug")) for t in project.get("teams") or [] if isinstance(t, dict))
    if not values["teams"] and isinstance(project.get("team"), dict):
        values["teams"] = [str(project["team"].get("slug"))]
    return values


def outputs_from_api(
    project: Mapping[str, Any], inputs: ProjectInputs, *, organization: str, adopted: bool,
    agreed: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The only place a Sentry project becomes state: the inputs with live values, plus computed fields.

    ``agreedSettings`` records the settings this stack last wrote or agreed with (default: the declared
    ones); refresh keeps it, so a later change by another stack sharing the project is recognised."""
    live = live_values(project)
    outs = inputs.to_props()
    for key in ("slug", "teams", *inputs.settings):
        value = live.get(key)
        outs[key] = normalise(key, value) if key in UNORDERED else value
    outs.update(
        projectId=str(project.get("id")),
        organization=organization,
        adopted=adopted,
        agreedSettings=dict(agreed) if agreed is not None else inputs.agreed(),
        dateCreated=project.get("dateCreated"),
    )
    return outs


def inputs_from_outputs(outs: Mapping[str, Any]) -> dict[str, Any]:
    """The inputs part of stored outputs (for ReadResult.inputs)."""
    return {k: outs[k] for k in INPUT_KEYS if outs.get(k) is not None and k != PROVIDER_KEY}


def describe_differences(diffs: Mapping[str, tuple[Any, Any]]) -> str:
    return "; ".join(f"{k}: Sentry has {live!r}, this stack declares {want!r}" for k, (live, want) in diffs.items())


__all__ = [
    "COMPUTED",
    "DEFAULT_KEY_POLICIES",
    "FLAGS",
    "INPUT_KEYS",
    "PLATFORMS",
    "SETTINGS",
    "UNORDERED",
    "DefaultKeyPolicy",
    "ProjectInputs",
    "describe_differences",
    "inputs_from_outputs",
    "live_values",
    "normalise",
    "outputs_from_api",
]
