"""The Project's typed inputs, and how they meet Sentry: bodies, live values, normalisation, comparison.

Every field is declared once in :class:`ProjectInputs`: its type (shared with the settings model through
:mod:`infra.fields`), its Pulumi name, the key of ``PUT /projects/{org}/{slug}/`` it is sent under, and the form
it is compared in. The body of a PUT, the values read back from Sentry, the drift a refresh shows and the provider's
schema all come from that declaration; a new project setting is one field here (and one in the settings model).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Self

from pydantic import Field

from infra import fields
from infra.sentry.bodies import body_of, live_of
from infra.sentry.compare import as_int, flag, int_or_none, text_or_empty, unordered
from infra.sentry.shape import SentryModel, field, field_rule, fields_of, normalised, parse, props_of

#: Sentry's defaults of the privacy booleans: an answer without them (null, or left out) means these
PRIVACY_DEFAULTS = {"dataScrubber": True, "dataScrubberDefaults": True, "scrubIPAddresses": False}


def hours(value: Any) -> Any:
    """Sentry's "never" is 0, null or absent."""
    return as_int(value or 0)


DigestDelay = Annotated[int, fields.whole(60, 3600)]
Teams = Annotated[list[fields.TeamSlug], Field(min_length=1)]


class ProjectInputs(SentryModel):
    """A Sentry project (``sentrystacks:index:Project``). Settings left out are not managed (left as Sentry has
    them); ``shared`` projects belong to every stack of the app."""

    slug: fields.ProjectSlug = field("slug", description="The project's slug")
    teams: Teams = field("teams", sent=False, compare=unordered, description="Teams that own the project")
    name: fields.ProjectName | None = field("name", None, description="Display name; default: the slug")
    platform: fields.Platform | None = field("platform", None, compare=text_or_empty, description="Sentry platform id")
    resolve_age_hours: fields.ResolveAgeHours | None = field(
        "resolveAge", None, compare=hours, description="Auto-resolve issues after this many hours (0 = off)")
    allowed_domains: Annotated[list[fields.AllowedDomain], Field(min_length=1)] | None = field(
        "allowedDomains", None, compare=unordered, description="Origins allowed to send events")
    subject_prefix: fields.SubjectPrefix | None = field(
        "subjectPrefix", None, compare=text_or_empty, description="Prefix of notification e-mail subjects")
    subject_template: Annotated[str, fields.text("a subject template", max_len=200)] | None = field(
        "subjectTemplate", None, description="Template of notification e-mail subjects")
    digests_min_delay: DigestDelay | None = field(
        "digestsMinDelay", None, compare=int_or_none, description="Seconds before the first digest")
    digests_max_delay: DigestDelay | None = field(
        "digestsMaxDelay", None, compare=int_or_none, description="Most seconds between digests")
    scrub_ip_addresses: fields.Bool | None = field(
        "scrubIPAddresses", None, compare=flag(False), description="Scrub IP addresses from events")
    data_scrubber: fields.Bool | None = field(
        "dataScrubber", None, compare=flag(True), description="Scrub sensitive data")
    data_scrubber_defaults: fields.Bool | None = field(
        "dataScrubberDefaults", None, compare=flag(True), description="Scrub Sentry's default sensitive fields")
    sensitive_fields: list[str] | None = field(
        "sensitiveFields", None, compare=unordered, description="More field names to scrub")
    safe_fields: list[str] | None = field(
        "safeFields", None, compare=unordered, description="Field names never scrubbed")
    scrape_java_script: fields.Bool | None = field(
        "scrapeJavaScript", None, description="Fetch source files (JavaScript)")
    # the provider's own choices: never sent in a PUT
    shared: fields.Bool = field("shared", False, sent=False, description="Shared by every stack of the app")
    delete_on_destroy: fields.Bool | None = field(
        "deleteOnDestroy", None, sent=False, description="Delete the project on destroy; default: unless shared")
    adopt: fields.Bool = field("adopt", False, sent=False, description="Adopt a project that already exists")
    default_key: fields.KeyPolicy = field(
        "defaultKey", fields.DEFAULT_KEY_POLICY, sent=False, description="What to do with Sentry's 'Default' key")
    default_alert: fields.Bool = field(
        "defaultRules", fields.DEFAULT_ALERT, sent=False, description="Keep the default alert Sentry creates")
    stack: str = field("stack", "", sent=False, description="The stack that declares it (shared projects)")
    default_key_reuse: fields.Bool | None = field(
        "defaultKeyReuse", None, sent=False, diff=False,
        description="Leave the 'Default' key for the stack's first key to take over (defaultKey delete)")
    privacy_others: dict[str, Any] | None = field(
        "privacyOthers", None, sent=False, diff=False,
        description="The other stacks' privacy settings (shared projects: infra/sentry/privacy_floor.py)")

    @field_rule
    def _digests(self) -> Self:
        low, high = self.digests_min_delay, self.digests_max_delay
        if isinstance(low, int) and isinstance(high, int) and low > high:
            raise ValueError(f"digestsMinDelay {low} must not exceed digestsMaxDelay {high}")
        return self

    @property
    def label(self) -> str:
        return self.name or self.slug

    @property
    def deletes_on_destroy(self) -> bool:
        return not self.shared if self.delete_on_destroy is None else self.delete_on_destroy

    def settings(self) -> dict[str, Any]:
        """The declared project settings (Sentry's PUT keys; the slug and teams apart)."""
        return {k: v for k, v in body_of(self, skip_none=True).items() if k != "slug"}

    def with_settings(self, settings: Mapping[str, Any]) -> ProjectInputs:
        return parse(ProjectInputs, {**props_of(self), **settings})

    def create_body(self) -> dict[str, Any]:
        """Body of POST /teams/{org}/{team}/projects/."""
        body: dict[str, Any] = {"name": self.label, "slug": self.slug, "default_rules": self.default_alert}
        if self.platform:
            body["platform"] = self.platform
        return body

    def to_body(self, live: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """PUT body with the declared settings (and slug) that differ from `live` (all when None)."""
        wanted: dict[str, Any] = {"slug": self.slug, **self.settings()}
        if live is None:
            return wanted
        return {k: v for k, v in wanted.items() if normalise(k, v) != live_values(live).get(k)}

    def agreed(self) -> dict[str, Any]:
        """The declared settings and teams, normalised: what this stack agrees the shared project has."""
        return {k: normalise(k, v) for k, v in {**self.settings(), "teams": list(self.teams)}.items()}

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
        wanted: dict[str, Any] = {**self.settings(), "teams": list(self.teams)}
        return {k: (current.get(k), v) for k, v in wanted.items() if normalise(k, v) != current.get(k)}


class ProjectState(ProjectInputs):
    """What a Project's state holds besides its inputs (the inputs with Sentry's values)."""

    project_id: str | None = field("projectId", None, sent=False, diff=False, description="Numeric project id")
    organization: str | None = field("organization", None, sent=False, diff=False)
    adopted: bool | None = field("adopted", None, sent=False, diff=False,
                                 description="The project existed: this stack adopted it")
    date_created: str | None = field("dateCreated", None, sent=False, diff=False)
    agreed_settings: dict[str, Any] | None = field(
        "agreedSettings", None, sent=False, diff=False,
        description="Shared projects: the settings this stack last wrote or agreed with")
    privacy_asks: dict[str, Any] | None = field(
        "privacyAsks", None, sent=False, diff=False,
        description="This stack's own privacy settings when it last applied them")
    privacy_kept: dict[str, Any] | None = field(
        "privacyKept", None, sent=False, diff=False,
        description="Privacy settings Sentry keeps stricter than this stack asks")
    privacy_users: list[str] | None = field("privacyUsers", None, sent=False, diff=False,
                                            description="The other stacks that use the shared project")


#: the settings that are sets (stored in one order)
SETS = tuple(key for _n, key, _i, meta in fields_of(ProjectInputs) if meta.compare is unordered)
#: every project setting Sentry's PUT takes (by Pulumi name = Sentry's key)
SETTINGS = tuple(key for _n, key, _i, meta in fields_of(ProjectInputs) if meta.body is not None and key != "slug")
INPUT_KEYS = tuple(key for _n, key, _i, _m in fields_of(ProjectInputs))


def normalise(key: str, value: Any) -> Any:
    """A value in the form it is compared in (the declaration's `compare`)."""
    return normalised(ProjectInputs, key, value)


def live_values(project: Mapping[str, Any]) -> dict[str, Any]:
    """The managed fields of a Sentry project JSON (detailed shape), normalised; teams from ``teams[]`` or the
    summary shape's ``team``."""
    values = live_of(ProjectInputs, project, fill=True)
    teams = [t.get("slug") for t in project.get("teams") or [] if isinstance(t, dict)]
    if not teams and isinstance(project.get("team"), dict):
        teams = [project["team"].get("slug")]
    values["teams"] = unordered(teams)
    return values


def outputs_from_api(
    project: Mapping[str, Any], inputs: ProjectInputs, *, organization: str, adopted: bool,
    agreed: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The only place a Sentry project becomes state: the inputs with live values, plus computed fields.

    ``agreedSettings`` records the settings this stack last wrote or agreed with (default: the declared
    ones); refresh keeps it, so a later change by another stack sharing the project is recognised."""
    outs = props_of(inputs)
    for key in ("slug", *inputs.settings()):
        value = project.get(key)
        outs[key] = unordered(value) if key in SETS else value  # sets in one order
    outs["teams"] = live_values(project)["teams"]
    outs.update(
        projectId=str(project.get("id")),
        organization=organization,
        adopted=adopted,
        agreedSettings=dict(agreed) if agreed is not None else inputs.agreed(),
        dateCreated=project.get("dateCreated"),
    )
    return outs


def describe_differences(diffs: Mapping[str, tuple[Any, Any]]) -> str:
    return "; ".join(f"{k}: Sentry has {live!r}, this stack declares {want!r}" for k, (live, want) in diffs.items())


__all__ = [
    "INPUT_KEYS",
    "PRIVACY_DEFAULTS",
    "SETTINGS",
    "ProjectInputs",
    "describe_differences",
    "live_values",
    "normalise",
    "outputs_from_api",
]
