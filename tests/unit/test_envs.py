"""Framework-aware environments (infra/envs.py, infra/settings/frameworks.py): every framework gets the names it reads,
from the contract (packages/contract.json), a secret never becomes public, events are sent by a deployed stack,
and a service gets the cron monitors it runs."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

import infra.contract as contract
from infra.envs import service_env
from infra.render import COMPOSE_FILE, parse_dotenv, render_all
from infra.sampling import derive_rates
from infra.settings import SettingsError
from infra.settings.frameworks import owned_names
from tests.unit.settings_support import DSNS, settings_for

TOKEN = "sntrys_eyJpYXQiOjE3MDAwMDAwMDB9_secret"
#: one service per framework, each with a secret in its own environment
PLATFORM = {"sveltekit": "javascript-sveltekit", "nextjs": "javascript-nextjs", "vite": "javascript-react",
            "nuxt": "javascript-nuxt", "node": "node-express", "django": "python-django", "flask": "python-flask",
            "fastapi": "python-fastapi", "celery": "python-celery", "other": "go"}  # fmt: skip


def app_settings(framework: str | None, platform: str, stack: str = "dev", **service: Any) -> Any:
    svc = {"image": "shop/app:1", "port": 9000, "sentry": {"project": "shop-app", "platform": platform},
           "environment": {"SENTRY_AUTH_TOKEN": TOKEN, "API_SECRET": TOKEN}, **service}  # fmt: skip
    if framework is not None:
        svc["framework"] = framework
    return settings_for(stack, services={"app": svc}, serviceOverrides={}, alerts={}, monitors={}, cronMonitors={},
                        keys={})  # fmt: skip


def env_of(settings: Any, name: str = "app") -> dict[str, str]:
    return service_env(settings, settings.service(name), {name: DSNS["backend"]}, derive_rates(settings.sampling))


def test_every_framework_of_the_contract_is_covered_here() -> None:
    assert sorted(PLATFORM) == sorted(contract.frameworks())


@pytest.mark.parametrize("framework", sorted(PLATFORM))
def test_each_framework_gets_its_names_and_a_secret_never_becomes_public(framework: str) -> None:
    s = app_settings(framework, PLATFORM[framework])
    svc = s.service("app")
    env = env_of(s)
    prefix = contract.public_prefix(framework)
    sdk = contract.sdk_of(framework, PLATFORM[framework])
    assert svc.framework == framework and svc.sdk == sdk
    # the process: the contract's server names for its SDK, in that SDK's shape
    sentry = {k for k in env if k.startswith("SENTRY_")} - {"SENTRY_AUTH_TOKEN"}
    assert sentry <= set(contract.server_names(sdk)), sorted(sentry - set(contract.server_names(sdk)))
    assert ("SENTRY_PROFILE_LIFECYCLE" in env) == (sdk == "python")
    collection = json.loads(env["SENTRY_DATA_COLLECTION"])
    shape = contract.value_shape(sdk)  # a foreign SDK's code gets sentry-python's shape to map
    assert ("user_info" in collection) == (shape == "python") and ("userInfo" in collection) == (shape == "javascript")
    # the browser: exactly the contract's rendered public list under the framework's prefix, or nothing
    public = {k for k in env if prefix and k.startswith(prefix)}
    assert public == ({f"{prefix}{n}" for n in contract.rendered_public_names()} if prefix else set())
    for name in public:  # copies of the server's values (the replay rates are the browser's only)
        server = name.removeprefix(prefix or "")
        assert env[name] == env[server] if server in env else "REPLAYS" in name, name
    # the secret stays under its own names only, in the mapping and in the rendered file
    assert [k for k, v in env.items() if TOKEN in v] == ["API_SECRET", "SENTRY_AUTH_TOKEN"]
    text = render_all(s, {"app": DSNS["backend"]}, derive_rates(s.sampling)).files["app.env"]
    holders = sorted(k for k, v in parse_dotenv(text).items() if TOKEN in v)
    assert holders == ["API_SECRET", "SENTRY_AUTH_TOKEN"] and not any(
        k.startswith(p) for k in holders for p in filter(None, contract.contract()["publicPrefixes"].values()))


@pytest.mark.parametrize("framework", [f for f in sorted(PLATFORM) if contract.public_prefix(f)])
def test_a_public_sentry_name_of_ones_own_is_refused(framework: str) -> None:
    """`<prefix>SENTRY_AUTH_TOKEN` would reach every visitor: only the contract's public list may have the prefix."""
    prefix = contract.public_prefix(framework)
    with pytest.raises(SettingsError) as info:
        app_settings(framework, PLATFORM[framework], environment={f"{prefix}SENTRY_AUTH_TOKEN": TOKEN})
    [problem] = info.value.problems
    assert f"services.app.environment.{prefix}SENTRY_AUTH_TOKEN" in str(problem)
    assert "every visitor" in str(problem) and TOKEN not in str(problem)
    with pytest.raises(SettingsError, match=f"{prefix}SENTRY_DSN is set by the toolkit"):
        app_settings(framework, PLATFORM[framework], environment={f"{prefix}SENTRY_DSN": "x"})


def test_the_platform_implies_the_framework_and_a_browser_platform_without_one_is_said() -> None:
    assert app_settings(None, "python-fastapi").service("app").framework == "fastapi"
    assert app_settings(None, "node-express").service("app").framework == "node"
    assert app_settings(None, "python").service("app").framework == "other"
    assert app_settings(None, "python").warnings == ()
    guessed = app_settings(None, "javascript-react")
    assert guessed.service("app").framework == "sveltekit"  # what the toolkit rendered before frameworks
    [warning] = guessed.warnings
    assert "services.app" in warning and "javascript-react" in warning and "services.app.framework" in warning
    assert app_settings("vite", "javascript-react").warnings == ()


def test_a_framework_of_the_other_sdk_is_refused() -> None:
    with pytest.raises(SettingsError, match=r"services\.app\.framework = \"django\": django runs the Python SDK but"
                                            r" the service reports as platform javascript-nextjs"):
        app_settings("django", "javascript-nextjs")
    with pytest.raises(SettingsError, match="JavaScript runtime reads its environment once"):
        app_settings("node", "node", dsnReload="file")


@pytest.mark.parametrize(("value", "says"), [
    ("go", "'other', with its sentry.platform (go, "),
    ("rails", "'other', with its sentry.platform"),
    ("express", "a node-express service is 'node'"),
    ("Koa", "a node-koa service is 'node'"),
    ("react", "'vite' when its build is served as static files"),
    ("djnago", "did you mean 'django'?"),
])  # fmt: skip
def test_an_unknown_framework_says_what_to_write_instead(value: str, says: str) -> None:
    with pytest.raises(SettingsError) as raised:
        app_settings(value, "go")
    message = str(raised.value)
    assert f'services.app.framework = "{value}": unknown value; ' in message and says in message, message
    assert "allowed: sveltekit, nextjs, vite, nuxt, node, django, flask, fastapi, celery, other" in message


@pytest.mark.parametrize(("stack", "expected"), [("dev", "false"), ("prod", None)])
def test_a_deployed_stack_sends_its_events(stack: str, expected: str | None) -> None:
    """The runtime packages log instead of sending in development environments unless told; the toolkit tells a
    deployed development stack to send, and leaves other environments to the default (which sends)."""
    env = env_of(app_settings("flask", "python-flask", stack=stack))
    assert env.get("SENTRY_STACKS_LOG_EVENTS") == expected
    assert contract.development_environments() >= {"development"}
    own = env_of(app_settings("flask", "python-flask", environment={"SENTRY_STACKS_LOG_EVENTS": "true"}))
    assert own["SENTRY_STACKS_LOG_EVENTS"] == "true"  # the service's own choice wins


def test_the_service_that_runs_a_cron_monitor_gets_its_slug_and_schedule() -> None:
    crons = {"nightly": {"service": "beat", "schedule": "30 2 * * *", "timezone": "Europe/Berlin",
                         "checkinMarginMinutes": 5, "maxRuntimeMinutes": 20},
             "poll": {"service": "node", "interval": {"every": 10, "unit": "minute"}}}  # fmt: skip
    base = {"image": "shop/app:1", "sentry": {"project": "shop-app", "platform": "python-django"}}
    s = settings_for("prod", services={"beat": {**base, "framework": "celery"},
                                       "node": {"image": "shop/n:1", "sentry": {"project": "shop-n",
                                                                                "platform": "node"}},
                                       "web": {"image": "shop/app:1", "dsnFrom": "beat"}},
                     serviceOverrides={}, alerts={}, monitors={}, cronMonitors=crons, keys={})  # fmt: skip
    rates = derive_rates(s.sampling)
    dsns = {"beat": DSNS["backend"], "node": DSNS["frontend"]}
    beat = json.loads(service_env(s, s.service("beat"), dsns, rates)["SENTRY_STACKS_CRON_MONITORS"])
    assert beat == {"nightly": {"slug": "nightly-prod", "config": {
        "schedule": {"type": "crontab", "value": "30 2 * * *"}, "timezone": "Europe/Berlin", "checkin_margin": 5,
        "max_runtime": 20, "failure_issue_threshold": 1, "recovery_threshold": 1}}}
    node = json.loads(service_env(s, s.service("node"), dsns, rates)["SENTRY_STACKS_CRON_MONITORS"])
    assert node["poll"]["config"]["schedule"] == {"type": "interval", "value": 10, "unit": "minute"}
    assert node["poll"]["config"]["checkinMargin"] == 1  # the JavaScript SDK's MonitorConfig
    assert "SENTRY_STACKS_CRON_MONITORS" not in service_env(s, s.service("web"), dsns, rates)
    with pytest.raises(SettingsError, match="SENTRY_STACKS_CRON_MONITORS is set by the toolkit"):
        settings_for("prod", serviceOverrides={"beat": {"environment": {"SENTRY_STACKS_CRON_MONITORS": "{}"}}})


#: what a service of an SDK without a runtime package (Go, Ruby, Java...) can use: its SDK reads the first three, its
#: code maps the rest (SENTRY_DATA_COLLECTION in sentry-python's shape)
LANGUAGE_NEUTRAL = {"SENTRY_DSN", "SENTRY_ENVIRONMENT", "SENTRY_RELEASE", "SENTRY_SAMPLE_RATE",
                    "SENTRY_TRACES_SAMPLE_RATE", "SENTRY_DEBUG", "SENTRY_DATA_COLLECTION"}


@pytest.mark.parametrize(("platform", "language"), [("go", "go"), ("ruby-rails", "ruby")])
def test_a_service_of_an_sdk_without_a_runtime_package_gets_only_what_its_own_code_can_use(platform: str,
                                                                                           language: str) -> None:
    """Nothing in a Go (Ruby...) service reads the profiling rates (sentry-python's) or SENTRY_STACKS_LOG_EVENTS (the
    runtime packages'): its env file and its container get neither, even in a development stack, where a runtime
    package's service gets SENTRY_STACKS_LOG_EVENTS=false."""
    crons = {"nightly": {"service": "app", "schedule": "30 2 * * *", "checkinMarginMinutes": 5}}
    s = settings_for("dev", services={"app": {"image": "shop/app:1", "port": 9000,
                                              "sentry": {"project": "shop-app", "platform": platform}},
                                      "worker": {"image": "shop/app:1", "dsnFrom": "app"},
                                      "py": {"image": "shop/py:1", "dsnFrom": "app", "framework": "flask"}},
                     serviceOverrides={}, alerts={}, monitors={}, cronMonitors=crons, keys={})  # fmt: skip
    assert s.environment in contract.development_environments()
    app, worker = s.service("app"), s.service("worker")
    assert (app.framework, app.sdk, worker.sdk) == ("other", contract.FOREIGN, contract.FOREIGN)
    rendered = render_all(s, {"app": DSNS["backend"]}, derive_rates(s.sampling))
    compose = yaml.safe_load(rendered.files[COMPOSE_FILE])["services"]
    for name, extra in (("app", {"SENTRY_STACKS_CRON_MONITORS"}), ("worker", set())):
        env = rendered.envs[name]
        assert {k for k in env if k.startswith("SENTRY_")} == LANGUAGE_NEUTRAL | extra, name
        assert parse_dotenv(rendered.files[f"{name}.env"]) == env
        assert {k for k in compose[name]["environment"] if k.startswith("SENTRY_")} == LANGUAGE_NEUTRAL | extra
        # what the toolkit renders is exactly what the service's own environment may not set
        assert owned_names("other", platform) == LANGUAGE_NEUTRAL | {"SENTRY_STACKS_CRON_MONITORS"}
    env = rendered.envs["app"]
    assert "user_info" in json.loads(env["SENTRY_DATA_COLLECTION"])  # sentry-python's shape, for its code to map
    assert json.loads(env["SENTRY_STACKS_CRON_MONITORS"])["nightly"]["config"]["checkin_margin"] == 5
    # a Python service with the same DSN still gets what its runtime package reads
    assert {"SENTRY_PROFILE_LIFECYCLE", "SENTRY_STACKS_LOG_EVENTS"} <= set(rendered.envs["py"])
    # the file says which values the code maps, and that nothing else of the toolkit's is there
    comment = [line for line in rendered.files["app.env"].split("\n") if line.startswith("#")]
    start = comment.index(f"# Sentry (other, the {language} SDK): no runtime package reads this file; the {language}"
                          " SDK reads SENTRY_DSN,")
    listed = [line.split()[1] for line in comment[start + 3:start + 7]]
    assert listed == ["SENTRY_DEBUG", "SENTRY_SAMPLE_RATE", "SENTRY_STACKS_CRON_MONITORS", "SENTRY_TRACES_SAMPLE_RATE"]
    assert "# No value that only a runtime package reads is rendered;" in comment[start + 7]
    assert "sentry-python's." not in "\n".join(comment) and "PROFILE" not in "\n".join(comment)


@pytest.mark.parametrize("platform", ["go", "ruby-rails"])
def test_a_service_of_an_sdk_without_a_runtime_package_may_set_what_the_toolkit_does_not_render(platform: str) -> None:
    """Its own SENTRY_PROFILES_SAMPLE_RATE (sentry-ruby has profiling), SENTRY_STACKS_LOG_EVENTS or
    SENTRY_SEND_DEFAULT_PII is its code's business: the toolkit renders none of them for it, so it refuses none; what
    it renders it still refuses, and a Python service still may not set the profiling rates."""
    own = {"SENTRY_PROFILES_SAMPLE_RATE": "0.5", "SENTRY_STACKS_LOG_EVENTS": "true", "SENTRY_SEND_DEFAULT_PII": "false"}
    env = env_of(app_settings("other", platform, environment=own))
    assert {k: env[k] for k in own} == own
    with pytest.raises(SettingsError, match="SENTRY_SAMPLE_RATE is set by the toolkit"):
        app_settings("other", platform, environment={"SENTRY_SAMPLE_RATE": "1"})
    for name in ("SENTRY_PROFILES_SAMPLE_RATE", "SENTRY_SEND_DEFAULT_PII"):
        with pytest.raises(SettingsError, match=f"{name} is set by the toolkit"):
            app_settings("flask", "python-flask", environment={name: own[name]})
