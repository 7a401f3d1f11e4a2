"""``pulumi import``: the inputs a program would declare, rebuilt from Sentry's answer for an import id.

The engine imports with ``Read(id=<import id>)`` and no properties or inputs. Each type's import id is Sentry's
natural reference to the object (:data:`FORMATS`: ``org/project-slug``, ``org/project-slug/key-id``, ...); the state
id the provider keeps may differ (a project's is ``org/<numeric id>``), and Read answers it. What Read gives as
inputs is every field Sentry holds for the object, as the inputs model declares it (a value the model would refuse
is left out: not managed), so a program that declares the same object (any subset of those fields) previews with no
change; the provider's own choices (``adopt``, ``stack``, ``shared``...) are left out, and a diff takes them from
the import's supplied inputs or their defaults (:func:`provider_choices`).

Bad ids say so in one line before anything is read: the format of each type, an organization other than the
provider's, a type with no Sentry object (``DeployStart``). An id that fits but names nothing answers "gone", which
the engine reports as ``resource '<id>' does not exist`` and writes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pulumi.dynamic import ReadResult

from infra.provider.kinds import Kind
from infra.sentry import ids
from infra.sentry.base import SentryProvider
from infra.sentry.client import SentryClient
from infra.sentry.cron_monitor import get_monitor
from infra.sentry.deploy import list_deploys
from infra.sentry.errors import SentryConfigError
from infra.sentry.inbound_filter import live_filter, norm_active
from infra.sentry.project import get_project
from infra.sentry.release import get_release
from infra.sentry.shape import SentryModel, check_props, fields_of, plain_value

#: each type's import id (also the README's table)
FORMATS: dict[str, str] = {
    "Project": "org/project-slug",
    "ClientKey": "org/project-slug/key-id",
    "InboundFilter": "org/project-slug/filter-id",
    "Alert": "org/workflow-id",
    "MetricMonitor": "org/detector-id",
    "CronMonitor": "org/monitor-slug",
    "Release": "org/version",
    "Deploy": "org/version/deploy-id",
    "IssueAlert": "org/project-slug/rule-id",
    "MetricAlert": "org/alert-rule-id",
}
#: types with no Sentry object of their own, and why
NOT_IMPORTABLE = {
    "DeployStart": "it marks when a rollout began and has no Sentry object",
    "SourceMaps": "its inputs name a build folder on this machine, which Sentry does not hold; declare it: the first "
                  "up's upload sends only the files Sentry lacks",
}

Live = dict[str, Any]
#: (state id, the props Read starts from) or None when nothing is there
Found = tuple[str, dict[str, Any]] | None


def provider_choices(model: type[SentryModel]) -> dict[str, Any]:
    """The fields of `model` that are the provider's own choices (never sent to or read from Sentry), with their
    defaults: ``adopt``, ``stack``, ``shared``, ``deleteOnDestroy``..."""
    out: dict[str, Any] = {}
    for _name, key, info, meta in fields_of(model):
        if meta.body is None and meta.read is None and not info.is_required():
            out[key] = info.get_default(call_default_factory=True)
    return out


def valid(model: type[SentryModel], props: Mapping[str, Any], keep: tuple[str, ...] = ()) -> dict[str, Any]:
    """`props` without None and without the values `model` refuses (not managed, then), the `keep` keys kept."""
    out = {k: v for k, v in props.items() if v is not None and v != ""}
    for _ in range(len(out) + 1):
        bad = {prop for prop, _reason in check_props(model, out) if prop in out and prop not in keep}
        if not bad:
            break
        out = {k: v for k, v in out.items() if k not in bad}
    return out


def sentry_fields(model: type[SentryModel], live: Mapping[str, Any]) -> dict[str, Any]:
    """Every field of `model` that Sentry's answer holds, by Pulumi name, as Sentry has it (its ``read`` or
    ``body`` path; the first alternative found)."""
    out: dict[str, Any] = {}
    for _name, key, _info, meta in fields_of(model):
        path = meta.read or meta.body
        if path is None:
            continue
        for option in path.split("|"):
            node: Any = live
            for step in option.split("."):
                if isinstance(node, Mapping) and step in node:
                    node = node[step]
                elif step.isdigit() and isinstance(node, list) and int(step) < len(node):
                    node = node[int(step)]
                else:
                    node = None
                    break
            if node is not None:
                out[key] = plain_value(node)
                break
    return out


def _parts(kind: str, text: str, count: int) -> list[str]:
    parts = text.split("/")
    if len(parts) != count or not all(parts):
        raise SentryConfigError(f"import id {text!r} does not fit {kind}: expected {FORMATS[kind]}")
    return parts


def _project_slugs(client: SentryClient, org: str) -> dict[str, str]:
    return {str(p.get("id")): str(p.get("slug")) for p in client.paginate(f"organizations/{org}/projects/",
                                                                            what="projects")}


def _project(client: SentryClient, org: str, rest: list[str], model: type[SentryModel]) -> Found:
    live = get_project(client, org, rest[0])
    if live is None:
        return None
    teams = [str(t.get("slug")) for t in live.get("teams") or [] if isinstance(t, dict)]
    props = {**sentry_fields(model, live), "slug": live.get("slug"), "teams": teams}
    return ids.make("project", org, str(live["id"])), valid(model, props, ("slug", "teams"))


def _key(client: SentryClient, org: str, rest: list[str], model: type[SentryModel]) -> Found:
    live = client.get_or_none(f"projects/{org}/{rest[0]}/keys/{rest[1]}/", what=f"client key '{rest[1]}'")
    if not isinstance(live, dict):
        return None
    props = {**sentry_fields(model, live), "project": rest[0], "isActive": bool(live.get("isActive", True))}
    return ids.make("key", org, rest[0], str(live.get("id") or rest[1])), valid(model, props, ("project", "name"))


def _filter(client: SentryClient, org: str, rest: list[str], model: type[SentryModel]) -> Found:
    found, active = live_filter(client, org, rest[0], rest[1])
    if not found:
        return None
    value = norm_active(active, rest[1])
    props = {"project": rest[0], "filterId": rest[1], ("subfilters" if isinstance(value, list) else "active"): value}
    return ids.make("filter", org, rest[0], rest[1]), valid(model, props, ("project", "filterId"))


def _alert(client: SentryClient, org: str, rest: list[str], model: type[SentryModel]) -> Found:
    live = client.get_or_none(f"organizations/{org}/workflows/{rest[0]}/", what=f"alert {rest[0]}")
    if not isinstance(live, dict):
        return None
    slugs = _project_slugs(client, org)
    streams: dict[str, str] = {}
    others: list[str] = []
    for detector_id in [str(d) for d in live.get("detectorIds") or []]:
        detector = client.get_or_none(f"organizations/{org}/detectors/{detector_id}/", what=f"detector {detector_id}")
        slug = slugs.get(str((detector or {}).get("projectId")))
        if isinstance(detector, dict) and detector.get("type") == "issue_stream" and slug:
            streams[slug] = detector_id
        else:
            others.append(detector_id)
    props = {**sentry_fields(model, live), "name": live.get("name"), "projects": sorted(streams),
             "detectorIds": sorted(others), "frequency": (live.get("config") or {}).get("frequency"),
             "triggers": live.get("triggers"), "actionFilters": live.get("actionFilters"),
             "enabled": live.get("enabled", True), "environment": live.get("environment"), "owner": live.get("owner")}
    state = valid(model, props, ("name",))
    reverse = {v: k for k, v in slugs.items()}
    state["projectIds"] = [reverse[s] for s in state.get("projects", [])]
    return ids.make("workflow", org, str(live["id"])), {**state, "issueStreamDetectors": streams}


def _monitor(client: SentryClient, org: str, rest: list[str], model: type[SentryModel]) -> Found:
    live = client.get_or_none(f"organizations/{org}/detectors/{rest[0]}/", what=f"monitor {rest[0]}")
    if not isinstance(live, dict) or live.get("type") not in (None, "metric_issue"):
        return None
    props = {**sentry_fields(model, live), "project": _project_slugs(client, org).get(str(live.get("projectId")))}
    return ids.make("detector", org, str(live["id"])), valid(model, props, ("project", "name"))


def _cron(client: SentryClient, org: str, rest: list[str], model: type[SentryModel]) -> Found:
    live = get_monitor(client, org, rest[0])
    if live is None:
        return None
    return f"{org}/{rest[0]}", valid(model, {**sentry_fields(model, live), "slug": rest[0]}, ("slug",))


def _release(client: SentryClient, org: str, rest: list[str], model: type[SentryModel]) -> Found:
    version = "/".join(rest)
    live = get_release(client, org, version)
    if live is None:
        return None
    projects = sorted(str(p.get("slug")) for p in live.get("projects") or [] if isinstance(p, dict))
    props = {"version": version, "projects": projects, "url": live.get("url")}
    return f"{org}/{version}", valid(model, props, ("version", "projects"))


def _deploy(client: SentryClient, org: str, rest: list[str], model: type[SentryModel]) -> Found:
    version, deploy_id = "/".join(rest[:-1]), rest[-1]
    live = next((d for d in list_deploys(client, org, version) or [] if str(d.get("id")) == deploy_id), None)
    if live is None:
        return None
    projects = sorted(str(p.get("slug") if isinstance(p, dict) else p) for p in live.get("projects") or [])
    if not projects:  # a deploy listing without its projects: the release's
        release = get_release(client, org, version) or {}
        projects = sorted(str(p.get("slug")) for p in release.get("projects") or [] if isinstance(p, dict))
    props = {**sentry_fields(model, live), "version": version, "projects": projects}
    return f"{org}/{version}/{deploy_id}", valid(model, props, ("version",))


def _rule(client: SentryClient, org: str, rest: list[str], model: type[SentryModel]) -> Found:
    live = client.get_or_none(f"projects/{org}/{rest[0]}/rules/{rest[1]}/", what=f"issue alert rule {rest[1]}")
    if not isinstance(live, dict):
        return None
    props = {**{k: live.get(k) for k in ("name", "actionMatch", "filterMatch", "frequency", "environment",
                                          "owner", "conditions", "filters", "actions")},
             **sentry_fields(model, live), "project": rest[0]}
    return ids.make("rule", org, rest[0], str(live["id"])), valid(model, props, ("project", "name"))


def _alert_rule(client: SentryClient, org: str, rest: list[str], model: type[SentryModel]) -> Found:
    live = client.get_or_none(f"organizations/{org}/alert-rules/{rest[0]}/", what=f"metric alert rule {rest[0]}")
    if not isinstance(live, dict):
        return None
    projects = live.get("projects") or []
    props = {**{k: v for k, v in live.items() if not isinstance(v, dict)}, **sentry_fields(model, live),
             "project": projects[0] if projects else None}
    return ids.make("alert-rule", org, str(live["id"])), valid(model, props, ("project", "name"))


#: type -> (the id's parts after the organization: exact count, or at least that many), how to find the object
_FIND: dict[str, tuple[int, Callable[[SentryClient, str, list[str], type[SentryModel]], Found]]] = {
    "Project": (1, _project), "ClientKey": (2, _key), "InboundFilter": (2, _filter), "Alert": (1, _alert),
    "MetricMonitor": (1, _monitor), "CronMonitor": (1, _cron), "Release": (-1, _release), "Deploy": (-2, _deploy),
    "IssueAlert": (2, _rule), "MetricAlert": (1, _alert_rule),
}


def parse_import_id(kind: str, text: str, organization: str) -> list[str]:
    """The parts of `text` after the organization; one-line errors for a type with nothing to import, an id that
    does not fit the type, and an organization other than the provider's."""
    if kind in NOT_IMPORTABLE:
        raise SentryConfigError(f"{kind} cannot be imported: {NOT_IMPORTABLE[kind]}")
    count, _find = _FIND[kind]
    org, _, rest = text.partition("/")
    parts = rest.split("/") if rest else []
    if count > 0:
        _parts(kind, text, count + 1)
    elif len(parts) < -count or not all(parts) or not org:
        raise SentryConfigError(f"import id {text!r} does not fit {kind}: expected {FORMATS[kind]}")
    if kind in ("Alert", "MetricMonitor", "MetricAlert") and not parts[0].isdigit():
        raise SentryConfigError(f"import id {text!r} does not fit {kind}: expected {FORMATS[kind]} (a number)")
    if org != organization:
        raise SentryConfigError(f"import id {text!r} is in organization {org!r}, but this provider manages "
                                f"organization {organization!r} (sentrystacks:organization or SENTRY_ORG)")
    return parts


def import_read(kind: Kind, provider: SentryProvider[Any], client: SentryClient, import_id: str) -> ReadResult:
    """Read for ``pulumi import``: the state id, the outputs and the inputs of the object `import_id` names
    (an empty id when there is none)."""
    parts = parse_import_id(kind.name, import_id, client.org)
    found = _FIND[kind.name][1](client, client.org, parts, kind.inputs)
    if found is None:
        return ReadResult("", {})
    state_id, props = found
    result = provider.read(state_id, props)
    if not result.id:
        return ReadResult("", {})
    choices = set(provider_choices(kind.inputs))
    outs = {k: v for k, v in (result.outs or {}).items() if k not in choices or k in props}
    inputs = {k: v for k, v in (result.inputs or {}).items() if k not in choices or k in props}
    return ReadResult(result.id, outs, inputs)


__all__ = ["FORMATS", "NOT_IMPORTABLE", "import_read", "parse_import_id", "provider_choices", "sentry_fields",
           "valid"]
