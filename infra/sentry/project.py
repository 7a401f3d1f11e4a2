"""Project: a Sentry project, optionally shared by every stack of the app.

Shared mode (``shared: true``): the stack that finds no project creates it; the other stacks adopt it
(``adopted: true``) only if their declared settings match Sentry's, and fail with an error naming each
difference otherwise. Afterwards any stack may change a shared setting, but only from the value it last
agreed with (``agreedSettings``, kept across refreshes): a setting that changed in Sentry since then
(another stack, or a hand) and differs from this stack's declaration is an error that names it, not an
overwrite, so two stacks that disagree never take turns. ``pulumi destroy`` leaves a shared project in
place unless ``deleteOnDestroy`` is true.

Create-time choices: ``defaultRules`` (keep Sentry's default alert) and ``defaultKey`` (``keep``,
``deactivate`` or ``delete`` the "Default" key Sentry creates with every project).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pulumi.dynamic import CreateResult, ReadResult, UpdateResult

from infra.sentry import ids
from infra.sentry.base import SentryProvider, split_unknown
from infra.sentry.client import SentryClient, json_of
from infra.sentry.errors import SentryConflict, SentryNotFound, SentryStateError
from infra.sentry.privacy_floor import FIELDS as PRIVACY_FIELDS
from infra.sentry.privacy_floor import asks, key_users, others_of, privacy_floor, record_privacy, recorded_asks
from infra.sentry.project_model import (
    INPUT_KEYS,
    ProjectInputs,
    describe_differences,
    normalise,
    outputs_from_api,
)
from infra.sentry.shape import inputs_of_state


def get_project(client: SentryClient, org: str, slug_or_id: str) -> dict[str, Any] | None:
    """The detailed project, or None if there is none under that slug/id (404, or a 302 redirect)."""
    try:
        response = client.request(
            "GET", f"projects/{org}/{slug_or_id}/", action="read", what=f"project '{slug_or_id}'"
        )
    except SentryNotFound:
        return None
    if response.status_code != 200:
        return None
    data = json_of(response, "read", f"project '{slug_or_id}'")
    return data if isinstance(data, dict) else None


def locate_project(client: SentryClient, org: str, project_id: str, slug: str) -> dict[str, Any] | None:
    """The project with numeric id `project_id`, tried by slug, then id, then the org's list."""
    for ref in (slug, project_id):
        found = get_project(client, org, ref) if ref else None
        if found is not None and str(found.get("id")) == project_id:
            return found
    for item in client.paginate(f"organizations/{org}/projects/", what="projects"):
        if str(item.get("id")) == project_id:
            return get_project(client, org, str(item.get("slug")))
    return None


CREATED_SKEW = 120.0  # seconds of clock difference tolerated between this machine and Sentry


def _made_by_our_post(project: Mapping[str, Any], inputs: ProjectInputs, sent: float) -> bool:
    """True when a project found after a POST whose outcome is unknown is that POST's doing: our name and
    platform, created (by Sentry's clock) after the POST was sent, allowing for clock skew."""
    if project.get("name") != inputs.label or (inputs.platform and project.get("platform") != inputs.platform):
        return False
    try:
        created = datetime.fromisoformat(str(project.get("dateCreated"))).timestamp()
    except ValueError:
        return False
    return sent - CREATED_SKEW <= created <= time.time() + CREATED_SKEW


def _team_slugs(project: dict[str, Any] | None) -> set[str]:
    return {str(t.get("slug")) for t in (project or {}).get("teams") or [] if isinstance(t, dict)}


class ProjectProvider(SentryProvider[ProjectInputs]):
    """CRUD for Sentry projects."""

    inputs_type = ProjectInputs

    def changed(self, olds: dict[str, Any], news: dict[str, Any], found: list[str],
                replaces: list[str]) -> tuple[list[str], list[str]]:
        """A shared project's privacy compares what an update would write (never below another stack's asks);
        a new slug replaces the project when it is another project (adopted, or shared no more), else renames."""
        known, unknown = split_unknown(olds, news, INPUT_KEYS)
        if known.get("shared") is True and olds.get("shared"):
            found = [k for k in found if k not in PRIVACY_FIELDS or k in unknown]
            declared = {k: known.get(k) for k in PRIVACY_FIELDS}
            users = {str(u) for u in olds.get("privacyUsers") or []}
            wanted, _ = privacy_floor(declared, olds, recorded_asks(olds), others_of(known), lambda: users)
            found += [k for k in PRIVACY_FIELDS if k not in unknown
                      and k in wanted and normalise(k, wanted[k]) != normalise(k, olds.get(k))]
            if asks(declared) != (olds.get("privacyAsks") or {}):
                found.append("privacyAsks")  # record this stack's new asks, even where Sentry keeps more
        replaces = []
        if "slug" in found and (olds.get("adopted") or "shared" in unknown
                                or bool(known.get("shared")) != bool(olds.get("shared"))):
            replaces = ["slug"]  # another project, not a rename of ours
        return found, replaces

    def create(self, props: dict[str, Any]) -> CreateResult:
        inputs = self.inputs(props)
        client, org = self.client, self.client.org
        what = f"project '{inputs.slug}' in organization '{org}'"
        reuse_default = inputs.default_key_reuse is True
        found: list[dict[str, Any]] = []

        def find() -> dict[str, Any] | None:  # only when the POST's outcome is unknown
            project = get_project(client, org, inputs.slug)
            if project is not None:
                found.append(project)
            return project

        team = inputs.teams[0]
        sent = time.time()
        try:
            created = client.create(f"teams/{org}/{team}/projects/", inputs.create_body(), what=what, find=find)
        except SentryConflict:  # the slug is taken: by a crashed run of ours, another stack, or a hand
            existing = get_project(client, org, inputs.slug)
            if existing is None:
                raise
            return self._existing(client, org, inputs, existing, reuse_default, props)
        if found and not _made_by_our_post(found[-1], inputs, sent):
            return self._existing(client, org, inputs, found[-1], reuse_default, props)  # there before: as a 409
        try:
            return self._finish_create(client, org, inputs, created, reuse_default, props)
        except Exception:
            client.delete(f"projects/{org}/{inputs.slug}/", what=what)  # no orphan: create is all or nothing
            raise

    def _existing(
        self, client: SentryClient, org: str, inputs: ProjectInputs, existing: dict[str, Any], reuse_default: bool,
        props: Mapping[str, Any],
    ) -> CreateResult:
        """A project already holds the slug: finish it if it is this stack's own unfinished create, else adopt
        it as the stack's settings allow (or refuse)."""
        if self._unfinished(client, org, inputs, existing) or self._ours_unrecorded(client, org, inputs):
            return self._finish_create(client, org, inputs, existing, reuse_default, props)
        return self._adopt(existing, inputs, props)

    def _finish_create(
        self, client: SentryClient, org: str, inputs: ProjectInputs, project: dict[str, Any],
        reuse_default: bool = False, props: Mapping[str, Any] | None = None,
    ) -> CreateResult:
        """Settings, teams and the "Default" key of a project this create made (now or in a crashed run).

        With ``defaultKeyReuse`` (set by SentryApp) and ``defaultKey: delete``, the "Default" key is left for
        the stack's first ClientKey, which renames it into itself (one write instead of a delete and a create)."""
        live = self._apply(client, org, inputs, project)
        if not (reuse_default and inputs.default_key == "delete"):
            self._default_key(client, org, inputs)
        outs = outputs_from_api(live, inputs, organization=org, adopted=False)
        if inputs.shared:  # its own project: nobody else used it, nothing was kept
            record_privacy(outs, props or {}, {}, [])
        return CreateResult(ids.make("project", org, str(live["id"])), outs)

    @staticmethod
    def _ours_unrecorded(client: SentryClient, org: str, inputs: ProjectInputs) -> bool:
        """True when a shared project holds no key but this stack's own: a create that finished after the CLI
        died (so no state recorded it), or a project every other stack has left. Nobody else uses it, so this
        stack takes it as its own instead of treating its settings as another stack's."""
        if not inputs.shared or not inputs.stack or inputs.default_key == "keep":
            return False
        keys = client.paginate(f"projects/{org}/{inputs.slug}/keys/", what=f"keys of project '{inputs.slug}'")
        return all(str(k.get("name") or "").startswith(f"{inputs.stack}-") for k in keys)

    @staticmethod
    def _unfinished(client: SentryClient, org: str, inputs: ProjectInputs, project: dict[str, Any]) -> bool:
        """True when the project is this stack's own create that never finished: a crashed run's POST landed
        (same name, platform and default-rules choice as our POST), but the "Default" key Sentry adds is still
        as Sentry made it and no stack has added a key yet. A finished create (by any stack) deletes or
        disables that key, so the project then belongs to whoever finished it; a project made by hand has
        another name or, made with Sentry's defaults, its default alert."""
        if project.get("name") != inputs.label or (inputs.platform and project.get("platform") != inputs.platform):
            return False
        if not inputs.default_alert:
            alerts = client.get(f"organizations/{org}/workflows/", what=f"alerts of project '{inputs.slug}'",
                                params={"project": str(project["id"])})
            if alerts:
                return False
        keys = list(client.paginate(f"projects/{org}/{inputs.slug}/keys/", what=f"keys of project '{inputs.slug}'"))
        defaults = [k for k in keys if k.get("label") == "Default" or k.get("name") == "Default"]
        if len(defaults) != len(keys) or not defaults:
            return False
        # with defaultKey "keep" a finished create leaves the key as Sentry made it: no way to tell, so adopt
        return inputs.default_key != "keep" and any(bool(k.get("isActive")) for k in defaults)

    def _adopt(self, existing: dict[str, Any], inputs: ProjectInputs, props: Mapping[str, Any]) -> CreateResult:
        client, org = self.client, self.client.org
        kept: dict[str, Any] = {}
        users: list[str] | None = None
        if inputs.shared:  # what another stack asked Sentry to scrub stays (this stack never asked for anything)
            inputs, kept, users = self._floored(client, org, inputs, existing, props, None)
            diffs = {k: v for k, v in inputs.differences(existing).items() if k not in PRIVACY_FIELDS}
            if diffs:
                raise SentryStateError(
                    f"shared project '{inputs.slug}' in organization '{org}' already exists with settings "
                    f"that differ from stack '{inputs.stack}': {describe_differences(diffs)}. Stacks sharing "
                    "a project must declare the same project settings (keep them in Pulumi.yaml), or use "
                    "one project per environment (projectMode: per-environment)"
                )
            # what is left to write is scrubbing this stack asks for beyond what Sentry has: raising it is safe
            live = self._apply(client, org, inputs, existing) if inputs.differences(existing) else existing
        elif inputs.adopt:
            live = self._apply(client, org, inputs, existing)
        else:
            raise SentryStateError(
                f"project '{inputs.slug}' already exists in organization '{org}' and this stack did not "
                "create it: set adoptExisting to manage it from this stack, or choose another slug"
            )
        outs = outputs_from_api(live, inputs, organization=org, adopted=True)
        if inputs.shared:
            record_privacy(outs, props, kept, users)
        return CreateResult(ids.make("project", org, str(live["id"])), outs)

    @staticmethod
    def _floored(
        client: SentryClient, org: str, inputs: ProjectInputs, live: Mapping[str, Any], props: Mapping[str, Any],
        asked: Mapping[str, Any] | None,
    ) -> tuple[ProjectInputs, dict[str, Any], list[str] | None]:
        """`inputs` with the privacy settings this stack may write to a shared project (never lower than another
        stack asked for: infra/sentry/privacy_floor.py), the fields kept stricter, and the other stacks found using
        the project (None when nothing had to be lowered, so they were not looked up)."""
        others = others_of(props)
        found: list[set[str]] = []

        def users() -> set[str]:
            keys = client.paginate(f"projects/{org}/{live.get('slug') or inputs.slug}/keys/",
                                   what=f"keys of project '{inputs.slug}'")
            found.append(key_users([str(k.get("name") or "") for k in keys], inputs.stack, list(others)))
            return found[0]

        declared = {k: inputs.settings().get(k) for k in PRIVACY_FIELDS}
        settings, kept = privacy_floor(declared, live, asked, others, users)
        return inputs.with_settings(settings), kept, sorted(found[0]) if found else None

    @staticmethod
    def _apply(client: SentryClient, org: str, inputs: ProjectInputs, live: dict[str, Any]) -> dict[str, Any]:
        """Bring `live` to the declared settings and teams; returns the project as Sentry has it now (`live`
        itself, or the PUT's answer, when that is all that happened: no read)."""
        slug = str(live["slug"])
        what = f"project '{slug}' in organization '{org}'"
        body = inputs.to_body(live)
        fresh: dict[str, Any] | None = live
        if body:
            updated = client.put(f"projects/{org}/{slug}/", body, what=what)
            slug = str(updated.get("slug") or inputs.slug) if isinstance(updated, dict) else inputs.slug
            fresh = updated if isinstance(updated, dict) and updated.get("id") is not None else None
        current = _team_slugs(live)
        wanted = set(inputs.teams)
        for team in sorted(wanted - current):

            def attached(team: str = team, slug: str = slug) -> str | None:
                return team if team in _team_slugs(get_project(client, org, slug)) else None

            client.create(f"projects/{org}/{slug}/teams/{team}/", None, what=f"team '{team}' of {what}", find=attached)
            fresh = None
        for team in sorted(current - wanted):
            client.request("DELETE", f"projects/{org}/{slug}/teams/{team}/", action="remove team from", what=what)
            fresh = None
        if fresh is None:
            fresh = get_project(client, org, slug)
        if fresh is None:
            raise SentryStateError(f"{what} disappeared while it was being configured")
        return fresh

    @staticmethod
    def _default_key(client: SentryClient, org: str, inputs: ProjectInputs) -> None:
        if inputs.default_key == "keep":
            return
        path = f"projects/{org}/{inputs.slug}/keys/"
        for key in client.paginate(path, what=f"keys of project '{inputs.slug}'"):
            if key.get("label") == "Default" or key.get("name") == "Default":
                what = f"default key of project '{inputs.slug}'"
                if inputs.default_key == "delete":
                    client.delete(f"{path}{key['id']}/", what=what)
                else:
                    client.put(f"{path}{key['id']}/", {"isActive": False}, what=what)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        sid = ids.parse("project", id_)
        inputs = self.inputs(props)
        live = locate_project(self.client, sid.org, sid.object_id, str(props.get("slug") or ""))
        if live is None:
            return ReadResult("", {})
        agreed = props.get("agreedSettings") if isinstance(props.get("agreedSettings"), dict) else None
        outs = outputs_from_api(live, inputs, organization=sid.org, adopted=bool(props.get("adopted")), agreed=agreed)
        outs.update({k: props[k] for k in ("privacyAsks", "privacyKept", "privacyUsers") if k in props})
        return ReadResult(id_, outs, inputs_of_state(ProjectInputs, outs))

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        sid = ids.parse("project", id_)
        inputs = self.inputs(news)
        adopted = bool(olds.get("adopted"))
        live = locate_project(self.client, sid.org, sid.object_id, str(olds.get("slug") or inputs.slug))
        if live is None:
            raise SentryStateError(
                f"project '{olds.get('slug')}' ({id_}) no longer exists in Sentry: run `pulumi refresh`"
            )
        kept: dict[str, Any] = {}
        users: list[str] | None = None
        if inputs.shared:
            inputs, kept, users = self._floored(self.client, sid.org, inputs, live, news, recorded_asks(olds))
            stored = olds.get("agreedSettings")
            agreed: dict[str, Any] = stored if isinstance(stored, dict) else {}
            conflicts = inputs.conflicts(live, agreed)
            if conflicts:
                raise SentryStateError(
                    f"shared project '{inputs.slug}' was changed in Sentry since stack '{inputs.stack}' last "
                    f"applied it (by another stack sharing it, or by hand): {describe_differences(conflicts)}. "
                    "Make the stacks agree (keep shared project settings in Pulumi.yaml), or use projectMode: "
                    "per-environment"
                )
        live = self._apply(self.client, sid.org, inputs, live)
        outs = outputs_from_api(live, inputs, organization=sid.org, adopted=adopted)
        if inputs.shared:
            record_privacy(outs, news, kept, users, olds)
        return UpdateResult(outs)

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        inputs = self.inputs(props)
        if not inputs.deletes_on_destroy:
            return  # shared with other stacks: destroying one environment never deletes it
        sid = ids.parse("project", id_)
        live = locate_project(self.client, sid.org, sid.object_id, inputs.slug)
        if live is not None:
            self.client.delete(f"projects/{sid.org}/{live['slug']}/", what=f"project '{live['slug']}'")


__all__ = ["ProjectProvider", "get_project", "locate_project"]
