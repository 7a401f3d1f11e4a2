"""Every provider against the bodies Sentry itself sends: no false drift on refresh.

The corpus (tests/data/sentry-responses/) holds Sentry's published example responses for every operation the
providers call (openapi/, extracted from the OpenAPI schema by extract_openapi.py) and bodies recorded from
sentry.io (recorded/, provenance in recorded/SOURCES.json). For every resource and every body: `read()` parses
it through the real client from a loopback server, and `diff()` against the inputs that would have produced it
(written below the way a stack declares them, never derived by the code under test) shows no change. The props
given to `read()` are only the declared inputs and ids: an adopted object's first refresh.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from pulumi.dynamic import Config, ConfigureRequest

from infra.sentry.alert import AlertProvider
from infra.sentry.base import SentryProvider
from infra.sentry.client_key import ClientKeyProvider
from infra.sentry.inbound_filter import InboundFilterProvider
from infra.sentry.issue_alert import IssueAlertProvider
from infra.sentry.metric_alert import MetricAlertProvider
from infra.sentry.metric_monitor import MetricMonitorProvider
from infra.sentry.project import ProjectProvider
from tests.support.replay_sentry import ReplaySentry

pytestmark = pytest.mark.sentry

DATA = Path(__file__).resolve().parents[1] / "data" / "sentry-responses"
ORG = "acme"
API = "/api/0"


def bodies(*patterns: str) -> list[tuple[str, Any]]:
    """(file name, body) of the corpus files matching `patterns`, list bodies split into their items."""
    out: list[tuple[str, Any]] = []
    for pattern in patterns:
        for path in sorted(DATA.glob(pattern)):
            data = json.loads(path.read_text())
            body = data["body"] if path.parent.name == "openapi" else data
            items = body if isinstance(body, list) else [body]
            out.extend((f"{path.name}[{i}]" if isinstance(body, list) else path.name, item)
                       for i, item in enumerate(items))
    assert out, f"no corpus files match {patterns}"
    return out


def ids(cases: list[tuple[str, Any]]) -> list[str]:
    return [name for name, _ in cases]


@pytest.fixture
def sentry() -> Iterator[ReplaySentry]:
    server = ReplaySentry()
    try:
        yield server
    finally:
        server.stop()


def configured(cls: type[SentryProvider], server: ReplaySentry) -> Any:
    p = cls()
    p.configure(ConfigureRequest(Config(
        {"sentry:baseUrl": server.url, "sentry:organization": ORG, "sentry:token": "replay-token"}, "sentry-stacks")))
    return p


MOCKS = {s["file"] for s in json.loads((DATA / "recorded" / "SOURCES.json").read_text())
         if "hand-written mock" in s.get("kind", "")}  # not Sentry's shapes: check() may refuse their values


def refresh_shows_no_change(p: Any, id_: str, declared: dict[str, Any], name: str = "",
                            **computed: Any) -> dict[str, Any]:
    """check() accepts the declaration; read() of the adopted object shows no change, and stays stable."""
    checked = p.check({}, declared)
    if name not in MOCKS:
        assert [(f.property, f.reason) for f in checked.failures] == []
    read = p.read(id_, {**checked.inputs, **computed})
    assert read.id == id_
    diff = p.diff(id_, read.outs, checked.inputs)
    assert diff.changes is False, (read.outs, checked.inputs)
    again = p.read(id_, read.outs)
    assert again.outs == read.outs and p.diff(id_, again.outs, checked.inputs).changes is False
    assert p.diff(id_, read.outs, read.inputs).changes is False
    return dict(read.outs)


def some(mapping: Mapping[str, Any], *keys: str) -> dict[str, Any]:
    """The `keys` of `mapping` that Sentry sent (a stack declares only what it means)."""
    return {k: mapping[k] for k in keys if mapping.get(k) is not None}


# ---------------------------------------------------------------- Project

PROJECTS = bodies("openapi/*-projects-org-project-id-or-slug-200-*.json", "openapi/post-teams-*.json",
                  "openapi/post-projects-*-teams-*.json", "openapi/get-organizations-org-projects-*.json",
                  "recorded/go-project-*.json", "recorded/mcp-project.json")


def declare_project(body: Mapping[str, Any]) -> dict[str, Any]:
    teams = [t["slug"] for t in body.get("teams") or []] or [body["team"]["slug"]] if "team" in body else ["any"]
    declared = {"slug": body["slug"], "teams": teams, "name": body["name"],
                **some(body, "resolveAge", "subjectTemplate", "digestsMinDelay", "digestsMaxDelay", "scrubIPAddresses",
                       "dataScrubber", "dataScrubberDefaults", "sensitiveFields", "safeFields", "scrapeJavaScript")}
    if body.get("platform"):
        declared["platform"] = body["platform"]
    if body.get("subjectPrefix"):
        declared["subjectPrefix"] = body["subjectPrefix"]
    if body.get("allowedDomains"):
        declared["allowedDomains"] = body["allowedDomains"]
    return declared


@pytest.mark.parametrize(("name", "body"), PROJECTS, ids=ids(PROJECTS))
def test_project_bodies(sentry: ReplaySentry, name: str, body: dict[str, Any]) -> None:
    sentry.add("GET", f"{API}/projects/{ORG}/{body['slug']}/", body)
    p = configured(ProjectProvider, sentry)
    if "teams" not in body and "team" not in body:  # an old POST answer: no team at all (a GET always has them)
        read = p.read(f"{ORG}/{body['id']}", declare_project(body))
        assert read.outs["teams"] == [] and p.diff(read.id, read.outs, declare_project(body)).changes is True
        return
    outs = refresh_shows_no_change(p, f"{ORG}/{body['id']}", declare_project(body), adopted=True)
    assert outs["projectId"] == str(body["id"]) and outs["adopted"] is True
    assert sentry.writes() == []


# ---------------------------------------------------------------- ClientKey

KEYS = bodies("openapi/*-keys-*.json", "recorded/go-key*.json", "recorded/mcp-client-key.json",
              "recorded/recorded-2026-keys-list.json")


def declare_key(body: Mapping[str, Any]) -> dict[str, Any]:
    declared = {"project": "web", "name": body["name"], "isActive": body["isActive"],
                **some(body, "browserSdkVersion", "dynamicSdkLoaderOptions")}
    limit = body.get("rateLimit")
    if limit and limit.get("count") and limit.get("window"):
        declared["rateLimit"] = {"count": limit["count"], "window": limit["window"]}
    return declared


@pytest.mark.parametrize(("name", "body"), KEYS, ids=ids(KEYS))
def test_client_key_bodies(sentry: ReplaySentry, name: str, body: dict[str, Any]) -> None:
    sentry.add("GET", f"{API}/projects/{ORG}/web/keys/{body['id']}/", body)
    p = configured(ClientKeyProvider, sentry)
    outs = refresh_shows_no_change(p, f"{ORG}/web/{body['id']}", declare_key(body))
    assert outs["dsn"] == body["dsn"]["public"] and outs["keyId"] == body["id"]


# ---------------------------------------------------------------- InboundFilter

FILTER_LISTS = [(name, body) for name, body in
                [(p.name, json.loads(p.read_text())) for p in sorted((DATA / "recorded").glob("go-filters*.json"))]
                + [(p.name, json.loads(p.read_text())["body"])
                   for p in sorted((DATA / "openapi").glob("*-filters-*.json"))]]


def declare_filter(item: Mapping[str, Any]) -> dict[str, Any]:
    if item["id"] == "legacy-browsers":
        return {"project": "web", "filterId": item["id"], "subfilters": item["active"] or []}
    return {"project": "web", "filterId": item["id"], "active": item["active"]}


@pytest.mark.parametrize(("name", "listing"), FILTER_LISTS, ids=[n for n, _ in FILTER_LISTS])
def test_inbound_filter_bodies(sentry: ReplaySentry, name: str, listing: list[dict[str, Any]]) -> None:
    sentry.add("GET", f"{API}/projects/{ORG}/web/filters/", listing)
    p = configured(InboundFilterProvider, sentry)
    for item in listing:
        sentry.add("PUT", f"{API}/projects/{ORG}/web/filters/{item['id']}/", None, status=204)
        refresh_shows_no_change(p, f"{ORG}/web/{item['id']}", declare_filter(item))
        created = p.create(p.check({}, declare_filter(item)).inputs)  # one PUT of the declared value, no read
        assert p.diff(created.id, created.outs, declare_filter(item)).changes is False
        refresh_shows_no_change(p, created.id, declare_filter(item))
    assert [(m, path.rsplit("/", 2)[-2]) for m, path, _ in sentry.writes()] == [("PUT", i["id"]) for i in listing]


# ---------------------------------------------------------------- MetricMonitor

DETECTORS = bodies("openapi/*-detectors-*.json", "recorded/mcp-detector.json")
QUERY_TYPE = {"events": 0, "transactions": 1, "generic_metrics": 1, "events_analytics_platform": 1, "metrics": 2}


def declare_monitor(body: Mapping[str, Any]) -> dict[str, Any]:
    snuba = body["dataSources"][0]["queryObj"]["snubaQuery"]
    owner = body.get("owner")
    declared = {
        "project": "web", "name": body["name"], "aggregate": snuba["aggregate"], "dataset": snuba["dataset"],
        "queryType": QUERY_TYPE[snuba["dataset"]],  # declared; Sentry's snubaQuery carries no queryType
        "query": snuba.get("query") or "", "timeWindow": snuba["timeWindow"],
        **some(snuba, "environment", "eventTypes"),
        "detectionType": body["config"]["detectionType"], **some(body["config"], "comparisonDelta"),
        "conditions": [some(c, "type", "comparison", "conditionResult") for c in body["conditionGroup"]["conditions"]],
        **some(body, "description", "enabled"),
    }
    if owner:
        declared["owner"] = f"{owner['type']}:{owner['id']}"
    return declared


@pytest.mark.parametrize(("name", "body"), DETECTORS, ids=ids(DETECTORS))
def test_metric_monitor_bodies(sentry: ReplaySentry, name: str, body: dict[str, Any]) -> None:
    sentry.add("GET", f"{API}/organizations/{ORG}/detectors/{body['id']}/", body)
    p = configured(MetricMonitorProvider, sentry)
    if body.get("type") != "metric_issue":  # an error / uptime detector: parsed, but not a MetricMonitor's shape
        read = p.read(f"{ORG}/{body['id']}", {"project": "web", "name": body["name"], "aggregate": "count()",
                                               "conditions": []})
        assert read.outs["detectorId"] == str(body["id"])
        return
    assert "queryType" not in body["dataSources"][0]["queryObj"]["snubaQuery"]
    outs = refresh_shows_no_change(p, f"{ORG}/{body['id']}", declare_monitor(body))
    assert outs["detectorId"] == str(body["id"])


# ---------------------------------------------------------------- Alert (workflow)

WORKFLOWS = bodies("openapi/*-workflows-*.json", "recorded/mcp-workflow.json")


def declare_alert(body: Mapping[str, Any]) -> dict[str, Any]:
    def condition(c: Mapping[str, Any]) -> dict[str, Any]:
        return some(c, "type", "comparison", "conditionResult")

    def action(a: Mapping[str, Any]) -> dict[str, Any]:
        config = {k: v for k, v in a["config"].items() if k != "targetDisplay" and v is not None}
        return {"type": a["type"], **some(a, "integrationId"), "data": a.get("data") or {}, "config": config}

    return {
        "name": body["name"], "projects": [], "detectorIds": [str(d) for d in body["detectorIds"]],
        "triggers": {"logicType": body["triggers"]["logicType"],
                     "conditions": [condition(c) for c in body["triggers"]["conditions"]]},
        "actionFilters": [{"logicType": g["logicType"], "conditions": [condition(c) for c in g["conditions"]],
                           "actions": [action(a) for a in g["actions"]]} for g in body["actionFilters"]],
        **some(body["config"], "frequency"), **some(body, "environment", "owner", "enabled"),
    }


@pytest.mark.parametrize(("name", "body"), WORKFLOWS, ids=ids(WORKFLOWS))
def test_alert_bodies(sentry: ReplaySentry, name: str, body: dict[str, Any]) -> None:
    sentry.add("GET", f"{API}/organizations/{ORG}/workflows/{body['id']}/", body)
    p = configured(AlertProvider, sentry)
    outs = refresh_shows_no_change(p, f"{ORG}/{body['id']}", declare_alert(body), name,
                                  issueStreamDetectors={})
    assert outs["workflowId"] == str(body["id"])


# ---------------------------------------------------------------- IssueAlert (legacy rule)

RULES = bodies("openapi/*-project-id-or-slug-rules-*.json", "recorded/go-legacy-rule.json")


def declare_rule(body: Mapping[str, Any]) -> dict[str, Any]:
    def node(n: Mapping[str, Any]) -> dict[str, Any]:  # Sentry adds the "name" label; "" means no target
        return {k: v for k, v in n.items() if k != "name" and v not in ("", None)}

    return {"project": "web", "name": body["name"], "actionMatch": body["actionMatch"],
            "filterMatch": body.get("filterMatch") or "all", "frequency": body["frequency"],
            **{k: [node(n) for n in body.get(k) or []] for k in ("conditions", "filters", "actions")},
            **some(body, "environment", "owner")}


@pytest.mark.parametrize(("name", "body"), RULES, ids=ids(RULES))
def test_issue_alert_bodies(sentry: ReplaySentry, name: str, body: dict[str, Any]) -> None:
    sentry.add("GET", f"{API}/projects/{ORG}/web/rules/{body['id']}/", body)
    p = configured(IssueAlertProvider, sentry)
    outs = refresh_shows_no_change(p, f"{ORG}/web/{body['id']}", declare_rule(body))
    assert outs["ruleId"] == str(body["id"])


# ---------------------------------------------------------------- MetricAlert (legacy metric alert rule)

ALERT_RULES = bodies("openapi/*-alert-rules-*.json", "recorded/go-legacy-alert-rule.json")
ACTION_KEYS = ("type", "targetType", "targetIdentifier", "integrationId", "sentryAppId")  # what a stack writes


def declare_alert_rule(body: Mapping[str, Any]) -> dict[str, Any]:
    triggers = [{"label": t["label"], "alertThreshold": t["alertThreshold"],
                 "actions": [some(a, *ACTION_KEYS) for a in t["actions"]]} for t in body["triggers"]]
    return {"project": body["projects"][0], "name": body["name"],
            **some(body, "aggregate", "timeWindow", "query", "thresholdType", "resolveThreshold", "environment",
                   "dataset", "queryType", "eventTypes", "owner", "comparisonDelta", "thresholdPeriod"),
            "triggers": triggers}


@pytest.mark.parametrize(("name", "body"), ALERT_RULES, ids=ids(ALERT_RULES))
def test_metric_alert_bodies(sentry: ReplaySentry, name: str, body: dict[str, Any]) -> None:
    sentry.add("GET", f"{API}/organizations/{ORG}/alert-rules/{body['id']}/", body)
    p = configured(MetricAlertProvider, sentry)
    outs = refresh_shows_no_change(p, f"{ORG}/{body['id']}", declare_alert_rule(body))
    assert outs["alertRuleId"] == str(body["id"])


def test_corpus_covers_every_operation_the_providers_read() -> None:
    names = {p.name for p in (DATA / "openapi").glob("*.json")}
    for needed in ("get-projects-org-project-id-or-slug-200", "get-projects-org-project-id-or-slug-keys-key-id-200",
                   "get-projects-org-project-id-or-slug-filters-200", "get-organizations-org-detectors-detector-id-200",
                   "get-organizations-org-workflows-workflow-id-200",
                   "get-projects-org-project-id-or-slug-rules-rule-id",
                   "get-organizations-org-alert-rules-alert-rule-id"):
        assert any(n.startswith(needed) for n in names), needed

    def covered(cases: list[tuple[str, Any]]) -> set[str]:
        return {n.split("[")[0] for n, _ in cases}

    every = covered(PROJECTS) | covered(KEYS) | covered(DETECTORS) | covered(WORKFLOWS) | covered(RULES) | covered(
        ALERT_RULES) | {n for n, _ in FILTER_LISTS}
    assert names <= every, sorted(names - every)


def test_pagination_follows_a_path_only_link_header(sentry: ReplaySentry) -> None:
    """Sentry's Link header may carry only a path (as in go-sentry's recorded keys list): it is resolved against the
    base URL, not appended to the API root (which requested /api/0/api/0/...)."""
    keys = bodies("recorded/go-keys-list.json")
    source = next(s for s in json.loads((DATA / "recorded" / "SOURCES.json").read_text())
                  if s["file"] == "go-keys-list.json")
    assert source["link_header"].startswith("</api/0/projects/")  # recorded: a path, not a URL
    path = f"{API}/projects/{ORG}/web/keys/"
    first = f'<{path}?&cursor=0:0:1>; rel="previous"; results="false"; cursor="0:0:1", ' \
            f'<{path}?&cursor=1584513610301:0:1>; rel="next"; results="true"; cursor="1584513610301:0:1"'
    last = source["link_header"].replace("/the-interstellar-jurisdiction/pump-station/", f"/{ORG}/web/")
    sentry.add("GET", path, [keys[0][1]], headers={"Link": first})
    sentry.add("GET", f"{path}?&cursor=1584513610301:0:1", [keys[1][1]], headers={"Link": last})
    p = configured(ClientKeyProvider, sentry)
    listed = list(p.client.paginate(f"projects/{ORG}/web/keys/", what="keys"))
    assert [k["id"] for k in listed] == [keys[0][1]["id"], keys[1][1]["id"]]
    assert [r[1] for r in sentry.requests] == [path, path]  # never /api/0/api/0/...


# ---------------------------------------------------------------- unknown fields and unknown enum values

def with_extras(value: Any) -> Any:
    """`value` with a field Sentry might add one day in every object, at every depth."""
    if isinstance(value, dict):
        return {**{k: with_extras(v) for k, v in value.items()}, "futureField": {"nested": [1, "two"]}}
    if isinstance(value, list):
        return [with_extras(v) for v in value]
    return value


_DECLARE: dict[str, Any] = {"project": declare_project, "key": declare_key, "monitor": declare_monitor,
                            "alert": declare_alert, "rule": declare_rule, "alert-rule": declare_alert_rule}


def _resource(kind: str, body: Mapping[str, Any]) -> tuple[type[SentryProvider], str, str, dict[str, Any]]:
    """(provider class, GET path, resource id, declaration) of a corpus body of `kind`."""
    org_object, project_object = f"{ORG}/{body['id']}", f"{ORG}/web/{body['id']}"
    cls, path, id_ = {
        "project": (ProjectProvider, f"projects/{ORG}/{body.get('slug')}/", org_object),
        "key": (ClientKeyProvider, f"projects/{ORG}/web/keys/{body['id']}/", project_object),
        "monitor": (MetricMonitorProvider, f"organizations/{ORG}/detectors/{body['id']}/", org_object),
        "alert": (AlertProvider, f"organizations/{ORG}/workflows/{body['id']}/", org_object),
        "rule": (IssueAlertProvider, f"projects/{ORG}/web/rules/{body['id']}/", project_object),
        "alert-rule": (MetricAlertProvider, f"organizations/{ORG}/alert-rules/{body['id']}/", org_object),
    }[kind]
    return cls, f"{API}/{path}", id_, dict(_DECLARE[kind](body))


EXTRA_CASES = [("project", PROJECTS[0][1]), ("key", KEYS[0][1]),
               ("monitor", next(b for _, b in DETECTORS if b.get("type") == "metric_issue")),
               ("alert", WORKFLOWS[0][1]), ("rule", RULES[-1][1]), ("alert-rule", ALERT_RULES[-1][1])]


@pytest.mark.parametrize(("kind", "body"), EXTRA_CASES, ids=[k for k, _ in EXTRA_CASES])
def test_unknown_fields_at_any_depth_are_ignored(sentry: ReplaySentry, kind: str, body: dict[str, Any]) -> None:
    """Fields Sentry may add one day, in every object at every depth: parsed, never stored, never a change."""
    cls, path, id_, declared = _resource(kind, body)  # the declaration of the body without the new fields
    sentry.add("GET", path, with_extras(body))
    computed = {"issueStreamDetectors": {}} if cls is AlertProvider else {}
    outs = refresh_shows_no_change(configured(cls, sentry), id_, declared, **computed)
    assert "futureField" not in json.dumps(outs)


def _unknown_enums(kind: str, body: dict[str, Any]) -> tuple[dict[str, Any], Callable[[dict[str, Any]], Any]]:
    """`body` with values outside the sets this project knows, and where each shows up in the outputs."""
    b = json.loads(json.dumps(body))
    if kind == "project":
        b["platform"] = "cobol-on-mars"
        return b, lambda outs: outs["platform"]
    if kind == "monitor":
        b["config"]["detectionType"] = "quantum"
        b["conditionGroup"]["conditions"][0].update(type="beyond", conditionResult="critical")
        return b, lambda outs: (outs["detectionType"], outs["conditions"][-1]["type"],
                                outs["conditions"][-1]["conditionResult"])
    if kind == "alert":
        b["triggers"]["logicType"] = "most"
        b["actionFilters"][0]["actions"][0]["type"] = "carrier_pigeon"
        return b, lambda outs: (outs["triggers"]["logicType"], outs["actionFilters"][0]["actions"][0]["type"])
    if kind == "rule":
        b["actionMatch"] = "some"
        b["actions"][0]["id"] = "sentry.rules.actions.future.FutureAction"
        return b, lambda outs: (outs["actionMatch"], "sentry.rules.actions.future.FutureAction" in
                                {n["id"] for n in outs["actions"]})
    assert kind == "alert-rule"
    b["triggers"][0]["actions"][0]["type"] = "pigeon"
    b["thresholdType"] = 7
    return b, lambda outs: (outs["thresholdType"], outs["triggers"][0]["actions"][0]["type"])


ENUM_CASES = [c for c in EXTRA_CASES if c[0] != "key"]


@pytest.mark.parametrize(("kind", "body"), ENUM_CASES, ids=[k for k, _ in ENUM_CASES])
def test_unknown_enum_values_are_kept_and_shown(sentry: ReplaySentry, kind: str, body: dict[str, Any]) -> None:
    """A value outside a known set (Sentry added a platform, a detection type, an action type): no crash; it is kept
    in the outputs as Sentry sent it and shows as a change against the declaration."""
    cls, path, id_, declared = _resource(kind, body)
    changed, shown = _unknown_enums(kind, body)
    sentry.add("GET", path, changed)
    p = configured(cls, sentry)
    computed = {"issueStreamDetectors": {}} if cls is AlertProvider else {}
    read = p.read(id_, {**p.check({}, declared).inputs, **computed})
    expected = {"project": "cobol-on-mars", "monitor": ("quantum", "beyond", "critical"),
                "alert": ("most", "carrier_pigeon"), "rule": ("some", True),
                "alert-rule": (7, "pigeon")}[kind]
    assert shown(dict(read.outs)) == expected
    assert p.diff(id_, read.outs, p.check({}, declared).inputs).changes is True


ADOPT_CASES = [("project", b) for _, b in PROJECTS if "team" in b or "teams" in b] + [("key", b) for _, b in KEYS] \
    + [("monitor", b) for _, b in DETECTORS if b.get("type") == "metric_issue"] \
    + [("alert", b) for n, b in WORKFLOWS if n not in MOCKS] + [("rule", b) for _, b in RULES] \
    + [("alert-rule", b) for _, b in ALERT_RULES]


@pytest.mark.parametrize(("kind", "body"), ADOPT_CASES, ids=[f"{k}-{b['id']}-{i}" for i, (k, b) in
                                                             enumerate(ADOPT_CASES)])
def test_adopted_object_first_refresh_shows_no_change(sentry: ReplaySentry, kind: str, body: dict[str, Any]) -> None:
    """create() with adopt finds the object Sentry has (from its list shape), adopts it, and the first refresh of
    the adopted object shows no change (Sentry answers a PUT with the object as it is)."""
    cls, path, id_, declared = _resource(kind, body)
    declared = {**declared, "adopt": True}
    sentry.add("GET", path, body)
    sentry.add("PUT", path, body)
    lists = {"key": f"{API}/projects/{ORG}/web/keys/", "monitor": f"{API}/organizations/{ORG}/detectors/",
             "alert": f"{API}/organizations/{ORG}/workflows/", "rule": f"{API}/projects/{ORG}/web/rules/",
             "alert-rule": f"{API}/organizations/{ORG}/alert-rules/", "project": f"{API}/organizations/{ORG}/projects/"}
    sentry.add("GET", lists[kind], [body])
    sentry.add("GET", f"{API}/projects/{ORG}/web/", {"id": str(body.get("projectId")), "slug": "web"})
    if kind == "alert-rule":
        declared["project"] = body["projects"][0]
    if kind == "project":  # a project with no key yet: not an unfinished create of this stack
        sentry.add("GET", f"{API}/projects/{ORG}/{body['slug']}/keys/", [])
        sentry.add("GET", f"{API}/organizations/{ORG}/workflows/", [])  # nor its default alert (defaultRules false)
        for team in declared["teams"]:  # the slug is taken: Sentry's answer to the create, then it is found again
            sentry.add("POST", f"{API}/teams/{ORG}/{team}/projects/",
                       {"detail": "A project with this slug already exists."}, status=409)
    p = configured(cls, sentry)
    checked = p.check({}, declared)
    assert [(f.property, f.reason) for f in checked.failures] == []
    created = p.create(checked.inputs)
    assert created.id == id_ and p.diff(id_, created.outs, checked.inputs).changes is False
    read = p.read(id_, created.outs)
    assert p.diff(id_, read.outs, checked.inputs).changes is False and read.outs == created.outs
    # adopted, never created a second one (a project's POST answered 409: the slug was taken)
    assert [path for method, path, _ in sentry.requests if method == "POST"] == (
        [f"{API}/teams/{ORG}/{t}/projects/" for t in declared["teams"][:1]] if kind == "project" else [])
    if kind in ("project", "key"):
        assert [m for m, _, _ in sentry.writes() if m != "POST"] == []  # Sentry has what is declared: no PUT


CREATE_PATHS = {"key": f"{API}/projects/{ORG}/web/keys/",
                "monitor": f"{API}/organizations/{ORG}/projects/web/detectors/",
                "alert": f"{API}/organizations/{ORG}/workflows/", "rule": f"{API}/projects/{ORG}/web/rules/",
                "alert-rule": f"{API}/organizations/{ORG}/alert-rules/"}
CREATED = [(kind, body) for kind, cases in (("key", KEYS), ("monitor", DETECTORS), ("alert", WORKFLOWS),
                                            ("rule", RULES), ("alert-rule", ALERT_RULES))
           for name, body in cases if name.startswith("post-")]


@pytest.mark.parametrize(("kind", "body"), CREATED, ids=[k for k, _ in CREATED])
def test_created_object_first_refresh_shows_no_change(sentry: ReplaySentry, kind: str, body: dict[str, Any]) -> None:
    """Sentry's published answer to the provider's POST becomes state that the first refresh leaves unchanged."""
    cls, path, id_, declared = _resource(kind, body)
    if kind == "alert-rule":
        declared["project"] = body["projects"][0]
    sentry.add("POST", CREATE_PATHS[kind], body, status=201)
    sentry.add("GET", path, body)
    sentry.add("GET", f"{API}/projects/{ORG}/web/", {"id": str(body.get("projectId")), "slug": "web"})
    for listing in ("projects/acme/web/keys/", "organizations/acme/detectors/", "organizations/acme/workflows/",
                    "projects/acme/web/rules/", "organizations/acme/alert-rules/"):
        sentry.add("GET", f"{API}/{listing}", [])  # nothing to find again: a fresh create
    p = configured(cls, sentry)
    created = p.create(p.check({}, declared).inputs)
    assert created.id == id_ and [m for m, _, _ in sentry.writes()] == ["POST"]
    read = p.read(id_, created.outs)
    assert p.diff(id_, read.outs, p.check({}, declared).inputs).changes is False and read.outs == created.outs
