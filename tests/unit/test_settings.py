# ruff: noqa: E501 - the tables of expected messages read best one case per line
"""StackSettings: the real stack files load; every bad value is reported with key, value and what is allowed,
all problems at once; placeholders, overrides and key generations resolve as documented."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from infra.settings import PLATFORMS, SettingsError, StackSettings, git_short_head, load_settings
from tests.unit.settings_support import RELEASE, ROOT, settings_for, stack_config


def problems(
    stack: str = "dev",
    *,
    secret_keys: tuple[str, ...] = (),
    environ: dict[str, str] | None = None,
    root: Path = ROOT,
    **overrides: Any,
) -> list[str]:
    with pytest.raises(SettingsError) as info:
        load_settings(
            stack_config(stack, **overrides),
            stack=stack,
            git_release=lambda: RELEASE,
            secret_keys=secret_keys,
            environ=environ or {},
            root=root,
        )
    text = str(info.value)
    assert f"{len(info.value.problems)} problem(s)" in text
    return [str(p) for p in info.value.problems]


def one(stack: str = "dev", **overrides: Any) -> str:
    found = problems(stack, **overrides)
    assert len(found) == 1, found
    return found[0]


def services(**changes: Any) -> dict[str, Any]:
    """The default services with some fields changed: services(backend={"port": 1})."""
    base = copy.deepcopy(stack_config("dev")["sentry-stacks:services"])
    for name, fields in changes.items():
        if fields is None:
            base.pop(name, None)
            continue
        base.setdefault(name, {}).update(fields)
        for key in [k for k, v in fields.items() if v is None]:
            del base[name][key]
    return base


# --------------------------------------------------------------------------- the real stacks


def test_dev_and_prod_load() -> None:
    dev, prod = settings_for("dev"), settings_for("prod")
    assert isinstance(dev, StackSettings) and dev.environment == "development" and prod.environment == "production"
    assert dev.release == RELEASE and dev.release_source == "git"
    assert dev.driver == "compose" and dev.network_mode == "host" and dev.project_mode == "shared"
    assert dev.privacy.collection.userInfo and not prod.privacy.collection.userInfo
    assert not dev.send_default_pii and not prod.send_default_pii and not dev.privacy.warnings  # no deprecated alias
    assert [s.name for s in dev.services] == ["backend", "beat", "frontend", "redis", "worker"]
    assert dev.compose_project == "sentry-stacks-dev" and dev.deploy_dir == "deploy/dev"
    assert settings_for("dev", composeProject="shop-e2e-1").compose_project == "shop-e2e-1"
    backend, worker = dev.service("backend"), dev.service("worker")
    assert backend.port == 8000 and prod.service("backend").port == 8100
    assert dict(backend.environment)["REDIS_URL"] == "redis://127.0.0.1:6380/0"
    assert dict(prod.service("worker").environment)["CELERY_BROKER_URL"] == "redis://127.0.0.1:6381/1"
    assert worker.dsn_from == "backend" and worker.dsn_service == "backend" and worker.env_template == "backend"
    assert dev.service("frontend").env_template == "frontend" and dev.service("redis").env_template == "service"
    assert dict(dev.service("frontend").environment)["PUBLIC_BACKEND_URL"] == "http://127.0.0.1:8000"
    assert dict(dev.service("redis").environment) == {"REDIS_PORT": "6380"}
    assert dev.service("redis").command == (
        "redis-server",
        "--port",
        "6380",
        "--bind",
        "127.0.0.1",
        "--protected-mode",
        "no",
        "--save",
        "",
        "--appendonly",
        "no",
    )
    assert [s.name for s in dev.sentry_services()] == ["backend", "frontend"]
    assert dev.keys_for("backend").current == "g1" and dev.keys_for("backend").generations["g1"].active
    assert list(dev.alerts) == ["new-issues"] and list(dev.monitors) == ["error-spike"]
    assert dev.public_url(backend) == "http://127.0.0.1:8000" and dev.public_url(dev.service("redis")) is None
    assert dev.sentry.team == "platform" and dev.sentry.organization == "acme"


def test_config_as_pulumi_hands_it_over() -> None:
    """Top-level scalars arrive as strings, objects as JSON text."""
    raw = {
        k: (json.dumps(v) if isinstance(v, dict | list) else str(v).lower() if isinstance(v, bool) else str(v))
        for k, v in stack_config("prod").items()
    }
    settings = load_settings(raw, stack="prod", git_release=lambda: RELEASE, environ={})
    assert settings == settings_for("prod")


def test_release_from_config_and_from_git() -> None:
    assert settings_for("dev", release="shop@1.2.3").release == "shop@1.2.3"
    assert settings_for("dev", release="shop@1.2.3").release_source == "config"
    head = git_short_head(ROOT)
    assert head is None or (len(head) >= 4 and all(c in "0123456789abcdef" for c in head))


def test_every_problem_at_once_before_anything() -> None:
    found = problems(driver="kubernetes", networkMode="overlay", sampling={"traces": 1.5, "errors": -0.1})
    assert len(found) == 4
    assert any(
        p.startswith('sentry-stacks:driver = "kubernetes": unknown value; allowed: compose, docker') for p in found
    )
    assert any('sentry-stacks:networkMode = "overlay"' in p and "allowed: host, bridge" in p for p in found)
    assert "sentry-stacks:sampling.traces = 1.5: must be a number from 0 to 1" in "\n".join(found)
    assert "sentry-stacks:sampling.errors = -0.1: must be a number from 0 to 1" in "\n".join(found)


# --------------------------------------------------------------------------- top-level keys


def test_unknown_key_suggests_the_nearest() -> None:
    assert one(drvier="docker").startswith("sentry-stacks:drvier = \"docker\": unknown key; did you mean 'driver'?")
    found = one(sampling={"trace": 0.5})
    assert found.startswith("sentry-stacks:sampling.trace = 0.5: unknown key; did you mean 'traces'?")
    assert "allowed: budget, errors, profileLifecycle" in found


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("environment", "dev/1", 'sentry-stacks:environment = "dev/1": must be a Sentry environment name'),
        ("environment", "x" * 65, "must be at most 64 characters long"),
        ("release", "latest", 'sentry-stacks:release = "latest": must be a Sentry release'),
        ("release", "a/b", "must be a Sentry release: 1-200 characters, no '/'"),
        ("app", "My App", 'sentry-stacks:app = "My App": must be a slug'),
        ("app", "1234", "must be a slug: lowercase letters, digits, '-' and '_', not only digits"),
        ("team", "Platform Team", 'sentry-stacks:team = "Platform Team": must be a slug'),
        (
            "projectMode",
            "global",
            'sentry-stacks:projectMode = "global": unknown value; allowed: shared, per-environment',
        ),
        ("sendDefaultPii", "maybe", 'sentry-stacks:sendDefaultPii = "maybe": must be a boolean: true or false'),
        ("healthTimeout", "5", 'sentry-stacks:healthTimeout = "5": must be a whole number from 10 to 3600'),
        ("dsnHost", "http://x", 'sentry-stacks:dsnHost = "http://x": must be a host name or host:port'),
        ("composeProject", "My Project", 'sentry-stacks:composeProject = "My Project": must be a compose project name'),
        ("labels", {"bad key!": "x"}, "sentry-stacks:labels.bad key! = \"x\": bad name 'bad key!'"),
        ("services", {}, "sentry-stacks:services = {}: must describe at least one service"),
        ("sampling", "[1, 2]", "sentry-stacks:sampling = [1, 2]: must be an object"),
        ("keys", "{not json", 'sentry-stacks:keys = "{not json": must be an object or list'),
    ],
)
def test_top_level_values(key: str, value: Any, expected: str) -> None:
    found = problems(**{key: value})
    assert any(expected in p for p in found), found


def test_missing_release_without_git() -> None:
    with pytest.raises(SettingsError) as info:
        load_settings(stack_config("dev"), stack="dev", git_release=lambda: None, environ={})
    assert str(info.value.problems[0]) == (
        "sentry-stacks:release = (not set): not set, and `git rev-parse --short HEAD` found no commit:"
        " set it, e.g. 'myapp@1.2.3'"
    )


# --------------------------------------------------------------------------- Sentry connection


def test_missing_org_when_base_url_set() -> None:
    assert one(**{"sentry:organization": None}) == (
        "sentry:organization = (not set): required when sentry:baseUrl (or SENTRY_BASE_URL) is set:"
        " the organization slug"
    )
    found = problems(**{"sentry:organization": None, "sentry:baseUrl": None}, environ={"SENTRY_BASE_URL": "us"})
    assert found == [
        "sentry:organization = (not set): required when sentry:baseUrl (or SENTRY_BASE_URL) is set:"
        " the organization slug"
    ]


def test_bad_base_url_and_missing_team() -> None:
    found = problems(**{"sentry:baseUrl": "ftp://sentry.example.com", "sentry-stacks:team": None})
    assert found[0].startswith('sentry:baseUrl = "ftp://sentry.example.com": must be an http(s) URL')
    assert found[1] == (
        "sentry-stacks:team = (not set): required when sentry:baseUrl is set: the slug of the team"
        " that owns the projects"
    )


def test_base_url_that_is_not_a_url() -> None:
    found = one(**{"sentry:baseUrl": "not a url"})
    assert found.startswith('sentry:baseUrl = "not a url": must be an http(s) URL or a sentry.io region (us, de):')
    assert "no valid host name" in found


def test_base_url_from_the_environment_is_checked_too() -> None:
    found = problems(**{"sentry:baseUrl": None}, environ={"SENTRY_BASE_URL": "https://exa mple.com"})
    assert found[0].startswith('sentry:baseUrl = "https://exa mple.com": must be an http(s) URL')


def test_no_sentry_names_the_projects_own_namespace_and_a_command_outside_this_repository(tmp_path: Path) -> None:
    """A user's project (namespace `shop:`) with no Sentry: the message names `shop:team`, and starts localsentry with
    a command that exists outside this repository (no `make demo`)."""
    cfg = {("shop:" + k.removeprefix("sentry-stacks:")): v for k, v in stack_config("dev").items()
           if k.startswith("sentry-stacks:") and k != "sentry-stacks:team"}
    with pytest.raises(SettingsError) as raised:
        load_settings(cfg, stack="dev", project="shop", git_release=lambda: RELEASE, environ={}, root=tmp_path)
    message = str(raised.value)
    assert "no Sentry configured" in message and "shop:team" in message, message
    assert "sentry-stacks:" not in message and "make demo" not in message, message
    assert "python -m localsentry --info-file .localsentry/info.json" in message, message


def test_localsentry_fallback(tmp_path: Path) -> None:
    cfg = stack_config("dev", **{"sentry:baseUrl": None, "sentry:organization": None, "sentry-stacks:team": None})
    with pytest.raises(SettingsError, match=r"sentry:baseUrl = \(not set\): no Sentry configured"):
        load_settings(cfg, stack="dev", git_release=lambda: RELEASE, environ={}, root=tmp_path)
    # scripts that only render files do not need Sentry
    assert (
        load_settings(
            cfg, stack="dev", git_release=lambda: RELEASE, environ={}, root=tmp_path, require_sentry=False
        ).sentry.team
        is None
    )
    (tmp_path / ".localsentry").mkdir()
    (tmp_path / ".localsentry" / "info.json").write_text(
        json.dumps({"url": "http://127.0.0.1:9", "organization": "localsentry", "team": "localteam"})
    )
    settings = load_settings(cfg, stack="dev", git_release=lambda: RELEASE, environ={}, root=tmp_path)
    assert settings.sentry.base_url is None and settings.sentry.team == "localteam"
    assert settings.sentry.organization == "localsentry"


# --------------------------------------------------------------------------- services


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            {"backend": {"port": 70000}},
            "sentry-stacks:services.backend.port = 70000: must be a whole number from 1 to 65535",
        ),
        ({"backend": {"port": "http"}}, 'sentry-stacks:services.backend.port = "http": must be a whole number'),
        ({"backend": {"port": 80.5}}, "sentry-stacks:services.backend.port = 80.5: must be a whole number"),
        (
            {"backend": {"image": "Not An Image"}},
            'sentry-stacks:services.backend.image = "Not An Image": must be a Docker image reference',
        ),
        ({"backend": {"image": None}}, "sentry-stacks:services.backend.image = (not set): required"),
        (
            {"backend": {"restart": "sometimes"}},
            'sentry-stacks:services.backend.restart = "sometimes": unknown value; allowed: no, always, on-failure, unless-stopped',
        ),
        (
            {"backend": {"dependsOn": ["postgres"]}},
            'sentry-stacks:services.backend.dependsOn = "postgres": must name another service of this stack',
        ),
        (
            {"backend": {"command": "gunicorn 'app"}},
            'sentry-stacks:services.backend.command = "gunicorn \'app": must be a command line that splits into words',
        ),
        (
            {"backend": {"healthcheck": {"test": ["curl", "x"]}}},
            'sentry-stacks:services.backend.healthcheck.test = ["curl", "x"]: must be a list starting with CMD or CMD-SHELL',
        ),
        (
            {"backend": {"healthcheck": {"test": "true", "retries": 0}}},
            "sentry-stacks:services.backend.healthcheck.retries = 0: must be a whole number from 1 to 1000",
        ),
        (
            {"backend": {"healtcheck": {}}},
            "sentry-stacks:services.backend.healtcheck = {}: unknown key; did you mean 'healthcheck'?",
        ),
        (
            {"backend": {"bind": "localhost"}},
            'sentry-stacks:services.backend.bind = "localhost": must be an IP address',
        ),
        (
            {"backend": {"environment": {"2FA": "x"}}},
            "sentry-stacks:services.backend.environment.2FA = \"x\": bad variable name '2FA'",
        ),
        (
            {"backend": {"environment": {"SENTRY_DSN": "x"}}},
            'sentry-stacks:services.backend.environment.SENTRY_DSN = "x": SENTRY_DSN is set by the toolkit',
        ),
        (
            {"backend": {"environment": {"PORT": "1"}}},
            'sentry-stacks:services.backend.environment.PORT = "1": PORT is set by the toolkit',
        ),
        (
            {"backend": {"environment": {"X": {"a": 1}}}},
            'sentry-stacks:services.backend.environment.X = {"a": 1}: must be a string, number or boolean',
        ),
        (
            {"backend": {"environment": {"X": "${postgres.host}"}}},
            'sentry-stacks:services.backend.environment.X = "${postgres.host}": unknown placeholder ${postgres.host}; allowed: ${stack}',
        ),
        ({"backend": {"environment": {"X": "${worker.port}"}}}, "${worker.port}: service worker has no port"),
        (
            {"backend": {"environment": {"X": "${redis.publicUrl}"}}},
            "${redis.publicUrl}: service redis is not public (public: false)",
        ),
        ({"Backend": {"image": "x"}}, 'sentry-stacks:services.Backend = {"image": "x"}: bad service name \'Backend\''),
        (
            {"worker": {"dsnFrom": "redis"}},
            'sentry-stacks:services.worker.dsnFrom = "redis": must name a service with its own sentry project (backend, frontend)',
        ),
        (
            {"redis": {"envTemplate": "backend"}},
            'sentry-stacks:services.redis.envTemplate = "backend": the backend and frontend templates need a Sentry DSN',
        ),
        (
            {"frontend": {"port": 8000}},
            "sentry-stacks:services.frontend.port = 8000: port 8000 is already used by service backend",
        ),
        (
            {"redis": {"dependsOn": ["worker"]}, "worker": {"dependsOn": ["redis"]}},
            "dependency cycle: redis -> worker -> redis",
        ),
        (
            {"backend": {"hostPort": 9000}},
            "sentry-stacks:services.backend.hostPort = 9000: only applies with networkMode bridge",
        ),
        ({"worker": {"public": True}}, "sentry-stacks:services.worker.public = true: a public service needs a port"),
        (
            {"backend": {"build": {"dockerfile": "Dockerfile"}}},
            "sentry-stacks:services.backend.build.context = (not set): required",
        ),
    ],
)
def test_service_values(change: dict[str, Any], expected: str) -> None:
    found = problems(services=services(**change), serviceOverrides=None)
    assert any(expected in p for p in found), found


def test_sentry_block_of_a_service() -> None:
    found = problems(
        services=services(backend={"sentry": {"project": "123", "platform": "pyhton-django", "colour": 1}})
    )
    assert "sentry-stacks:services.backend.sentry.colour = 1: unknown key" in found[0]
    assert found[1].startswith('sentry-stacks:services.backend.sentry.project = "123": must be a slug')
    assert found[2].startswith(
        'sentry-stacks:services.backend.sentry.platform = "pyhton-django": unknown Sentry platform'
        " id; did you mean 'python-django'"
    )
    assert len(found) == 3  # the worker's dsnFrom, the alert and the monitor on backend are not reported again
    found = problems(
        services=services(frontend={"sentry": {"project": "sentry-stacks-demo-backend", "platform": "javascript"}})
    )
    assert found == [
        'sentry-stacks:services.frontend.sentry.project = "sentry-stacks-demo-backend": project'
        " sentry-stacks-demo-backend already belongs to service backend; to report to the same project,"
        " remove sentry here and set dsnFrom: backend"
    ]
    found = one(
        services=services(
            frontend={"sentry": {"project": "web", "platform": "javascript", "inboundFilters": {"localhost": "yes"}}}
        )
    )
    assert found.startswith(
        'sentry-stacks:services.frontend.sentry.inboundFilters.localhost = "yes": must be true or false'
    )


def test_platforms_are_sentrys() -> None:
    assert {"python-django", "javascript", "node", "other", "python-celery"} <= PLATFORMS
    assert "django" not in PLATFORMS


def test_bad_slug_in_per_environment_mode_counts_the_suffix() -> None:
    long_slug = "a" * 98
    found = one(
        projectMode="per-environment",
        services=services(backend={"sentry": {"project": long_slug, "platform": "python"}}),
    )
    assert "must be at most 96 characters long" in found


def test_service_overrides_merge_and_point_at_their_key() -> None:
    s = settings_for(
        "dev",
        serviceOverrides={
            "backend": {"port": 9100, "environment": {"EXTRA": "1", "DJANGO_ALLOWED_HOSTS": None}},
            "frontend": {"sentry": {"name": "Web"}},
        },
    )
    backend = s.service("backend")
    assert backend.port == 9100 and dict(backend.environment)["EXTRA"] == "1"
    assert "DJANGO_ALLOWED_HOSTS" not in dict(backend.environment)
    assert s.service("frontend").sentry is not None and s.service("frontend").sentry.name == "Web"
    assert s.service("frontend").sentry.project == "sentry-stacks-demo-frontend"  # merged, not replaced
    assert dict(s.service("frontend").environment)["PUBLIC_BACKEND_URL"] == "http://127.0.0.1:9100"
    found = problems(serviceOverrides={"backend": {"sentry": {"platform": "pyhton"}}, "backnd": {"port": 1}})
    assert found[0].startswith(
        'sentry-stacks:serviceOverrides.backnd = {"port": 1}: no such service in'
        " sentry-stacks:services; did you mean 'backend'?"
    )
    assert found[1].startswith('sentry-stacks:serviceOverrides.backend.sentry.platform = "pyhton": unknown Sentry')
    assert len(found) == 2


def test_placeholders_in_bridge_mode() -> None:
    s = settings_for(
        "dev",
        networkMode="bridge",
        services=services(
            backend={
                "hostPort": 18000,
                "environment": {
                    "A": "${self.url}",
                    "B": "${frontend.publicUrl}",
                    "C": "$${literal} $HOME ${stack}/${environment}",
                    "D": "${redis.host}:${redis.port} ${release} ${app} ${backend.bind}",
                },
            }
        ),
    )
    env = dict(s.service("backend").environment)
    assert env["A"] == "http://backend:8000" and env["B"] == "http://127.0.0.1:8080"
    assert env["C"] == "${literal} $HOME dev/development"
    assert env["D"] == f"redis:6380 {RELEASE} sentry-stacks-demo 0.0.0.0"
    assert s.public_url(s.service("backend")) == "http://127.0.0.1:18000"
    found = one(networkMode="bridge", services=services(backend={"bind": "127.0.0.1"}))
    assert found.startswith('sentry-stacks:services.backend.bind = "127.0.0.1": with networkMode bridge')


def test_a_redis_url_has_the_redis_scheme_not_http() -> None:
    """A new user's trial: the stack output serviceUrls.redis said http://... for Redis."""
    s = settings_for("dev", services=services(
        redis={"public": True},
        db={"image": "docker.io/library/postgres:16@sha256:" + "a" * 64, "port": 5432},
        cache={"image": "registry.example.com:5000/valkey/valkey:8", "port": 6390, "public": False},
        backend={"environment": {"REDIS_URL": "${redis.url}/0", "R": "${redis.publicUrl}", "DB": "${db.url}",
                                 "C": "${cache.url}", "SELF": "${self.url}"}},
    ))  # fmt: skip
    assert s.public_url(s.service("redis")) == "redis://127.0.0.1:6380"
    assert s.public_url(s.service("db")) == "postgresql://127.0.0.1:5432"
    assert s.public_url(s.service("backend")) == "http://127.0.0.1:8000"  # any other image: HTTP
    env = dict(s.service("backend").environment)
    assert env["REDIS_URL"] == "redis://127.0.0.1:6380/0" and env["R"] == "redis://127.0.0.1:6380"
    assert (env["DB"], env["C"], env["SELF"]) == ("postgresql://127.0.0.1:5432", "redis://127.0.0.1:6390",
                                                  "http://127.0.0.1:8000")  # fmt: skip



def test_a_redis_run_from_the_base_image_has_the_redis_scheme() -> None:
    """A new user's Go trial: Redis run as the README says, from the base image with redis-server (which the image
    name does not say), got http:// in serviceUrls and ${redis.url}."""
    s = settings_for("dev", services=services(
        redis={"image": "sentry-stacks/base:bookworm", "port": 6391, "public": True,
               "command": ["/usr/bin/redis-server", "--port", "${self.port}", "--bind", "${self.bind}"]},
        db={"image": "sentry-stacks/base:bookworm", "port": 5433, "command": "postgres -p ${self.port}"},
        backend={"command": ["python3", "-m", "app"], "environment": {"REDIS_URL": "${redis.url}/0", "DB": "${db.url}"}},
    ))  # fmt: skip
    port = s.service("redis").port
    assert s.public_url(s.service("redis")) == f"redis://127.0.0.1:{port}"
    assert s.service("redis").command == ("/usr/bin/redis-server", "--port", str(port), "--bind", "127.0.0.1")
    env = dict(s.service("backend").environment)
    assert (env["REDIS_URL"], env["DB"]) == (f"redis://127.0.0.1:{port}/0", "postgresql://127.0.0.1:5433")
    assert s.public_url(s.service("backend")) == "http://127.0.0.1:8000"  # any other program: HTTP

# --------------------------------------------------------------------------- keys and rotation


def test_key_generations() -> None:
    keys = {
        "backend": {
            "current": "g2",
            "generations": {"g1": {"active": False}, "g2": {"active": True, "rateLimit": {"count": 100, "window": 60}}},
        }
    }
    s = settings_for("dev", keys=keys)
    backend = s.keys_for("backend")
    assert backend.current == "g2" and [(label, g.active) for label, g in backend.generations.items()] == [
        ("g1", False),
        ("g2", True),
    ]
    assert backend.generations["g2"].rate_limit is not None and backend.generations["g2"].rate_limit.count == 100
    assert s.keys_for("frontend").current == "g1"  # default: one active generation


def test_a_disabled_key_can_never_be_current() -> None:
    found = one(keys={"backend": {"current": "g1", "generations": {"g1": {"active": False}, "g2": True}}})
    assert found == (
        'sentry-stacks:keys.backend.current = "g1": generation g1 is disabled (active: false) and a'
        " disabled key can never be current; make an active generation current (active: g2)"
    )


@pytest.mark.parametrize(
    ("keys", "expected"),
    [
        (
            {"backend": {"current": "g3", "generations": {"g1": {}}}},
            'sentry-stacks:keys.backend.current = "g3": no such generation; generations: g1',
        ),
        ({"backend": {"generations": {"g1": {}}}}, "sentry-stacks:keys.backend.current = (not set): required"),
        (
            {"backend": {"current": "g1", "generations": {}}},
            "sentry-stacks:keys.backend.generations = {}: must list at least one key generation",
        ),
        (
            {"backend": {"current": "G 1", "generations": {"G 1": {}}}},
            "sentry-stacks:keys.backend.generations.G 1 = {}: bad generation label 'G 1'",
        ),
        (
            {"worker": {"current": "g1", "generations": {"g1": {}}}},
            'sentry-stacks:keys.worker = {"current": "g1", "generations": {"g1": {}}}: worker uses the DSN of backend (dsnFrom); configure keys under backend',
        ),
        ({"redis": {"current": "g1", "generations": {"g1": {}}}}, "sentry-stacks:keys.redis = "),
        (
            {"backend": {"current": "g1", "generations": {"g1": {"rateLimit": {"count": 10}}}}},
            "sentry-stacks:keys.backend.generations.g1.rateLimit.window = (not set): required",
        ),
        (
            {"backend": {"current": "g1", "generations": {"g1": {"browserSdkVersion": "8"}}}},
            'sentry-stacks:keys.backend.generations.g1.browserSdkVersion = "8": must be a loader SDK version',
        ),
    ],
)
def test_key_problems(keys: dict[str, Any], expected: str) -> None:
    found = problems(keys=keys)
    assert any(p.startswith(expected) or expected in p for p in found), found


def test_rotation_record() -> None:
    record = {"old": "g1", "new": "g2", "phase": "started", "startedAt": "2026-11-28T12:00:00Z"}
    keys = {"backend": {"current": "g2", "generations": {"g1": True, "g2": True}}}
    settings_for("dev", keys=keys, rotation={"backend": record})
    found = one(keys=keys, rotation={"backend": {**record, "phase": "done"}})
    assert found.startswith("sentry-stacks:rotation.backend = ") and "phase must be one of" in found
    assert one(keys=keys, rotation={"backend": {**record, "new": "g9"}}).startswith(
        'sentry-stacks:rotation.backend.new = "g9": no such key generation of backend (g1, g2)'
    )


# --------------------------------------------------------------------------- sampling


@pytest.mark.parametrize(
    ("sampling", "expected"),
    [
        ({"traces": 1.01}, "sentry-stacks:sampling.traces = 1.01: must be a number from 0 to 1 (a sample rate)"),
        ({"replaysSession": "half"}, 'sentry-stacks:sampling.replaysSession = "half": must be a number from 0 to 1'),
        (
            {"profileLifecycle": "always"},
            'sentry-stacks:sampling.profileLifecycle = "always": unknown value; allowed: trace, manual',
        ),
        (
            {"budget": {"spansPerMonth": -1, "requestsPerDay": 1, "spansPerTransaction": 1}},
            "sentry-stacks:sampling.budget.spansPerMonth = -1: must be a number >= 0",
        ),
        (
            {"budget": {"spansPerMonth": 1, "requestsPerDay": -5, "spansPerTransaction": 1}},
            "sentry-stacks:sampling.budget.requestsPerDay = -5: must be a number >= 0",
        ),
        (
            {"budget": {"spansPerMonth": 1, "requestsPerDay": 1, "spansPerTransaction": 0}},
            "sentry-stacks:sampling.budget.spansPerTransaction = 0: must be a number >= 1",
        ),
        (
            {"budget": {"spansPerMonth": 100}},
            "sentry-stacks:sampling.budget.requestsPerDay = (not set): required with sentry-stacks:sampling.budget.spansPerMonth",
        ),
        (
            {"traces": 0.5, "budget": {"spansPerMonth": 100, "requestsPerDay": 1, "spansPerTransaction": 1}},
            "sentry-stacks:sampling.budget.spansPerMonth = 100: give either sentry-stacks:sampling.traces or sentry-stacks:sampling.budget.spansPerMonth, not both",
        ),
        (
            {"budget": {"replaysPerMonth": 10}},
            "sentry-stacks:sampling.budget.sessionsPerDay = (not set): required with sentry-stacks:sampling.budget.replaysPerMonth",
        ),
        (
            {"budget": {"profiledInstances": 0, "profileHoursPerMonth": 1}},
            "sentry-stacks:sampling.budget.profiledInstances = 0: must be a whole number >= 1",
        ),
        (
            {"budget": {"errorSessionShare": 2, "replaysPerMonth": 1, "sessionsPerDay": 1}},
            "sentry-stacks:sampling.budget.errorSessionShare = 2: must be a number from 0 to 1",
        ),
        (
            {"budget": {"spanzPerMonth": 1}},
            "sentry-stacks:sampling.budget.spanzPerMonth = 1: unknown key; did you mean 'spansPerMonth'?",
        ),
        (
            {"profiles": 0.5, "profileSession": 1.0},
            "sentry-stacks:sampling.profileSession = 1.0: continuous profiling (sentry-stacks:sampling.profileSession) and transaction-based profiling (sentry-stacks:sampling.profiles) cannot both be on",
        ),
    ],
)
def test_sampling_problems(sampling: dict[str, Any], expected: str) -> None:
    found = problems(sampling=sampling)
    assert any(p.startswith(expected) for p in found), found


# --------------------------------------------------------------------------- alerts and monitors


@pytest.mark.parametrize(
    ("alerts", "monitors", "expected"),
    [
        (
            {"a": {"services": ["redis"], "actions": [{"type": "email"}]}},
            {},
            'sentry-stacks:alerts.a.services[0] = "redis": must name a service that reports to Sentry (backend, beat, frontend, worker)',
        ),
        (
            {"a": {"services": ["backend"], "actions": []}},
            {},
            "sentry-stacks:alerts.a.actions = []: must list at least one action",
        ),
        (
            {"a": {"services": ["backend"], "actions": [{"type": "pigeon"}]}},
            {},
            'sentry-stacks:alerts.a.actions[0].type = "pigeon": unknown value; allowed: discord, email',
        ),
        (
            {"a": {"services": ["backend"], "actions": [{"type": "slack"}]}},
            {},
            "sentry-stacks:alerts.a.actions[0].integrationId = (not set): required for slack actions",
        ),
        (
            {"a": {"services": ["backend"], "actions": [{"type": "email"}], "frequencyMinutes": 7}},
            {},
            "sentry-stacks:alerts.a.frequencyMinutes = 7: must be one of 0, 5, 10, 30, 60, 180, 720, 1440",
        ),
        (
            {"a": {"services": ["backend"], "actions": [{"type": "email"}], "triggerLogic": "some"}},
            {},
            'sentry-stacks:alerts.a.triggerLogic = "some": unknown value; allowed: any, any-short, all, none',
        ),
        (
            {"a": {"services": ["backend"], "actions": [{"type": "email"}], "triggers": ["first_seen"]}},
            {},
            'sentry-stacks:alerts.a.triggers[0].type = "first_seen": unknown trigger type; did you mean \'first_seen_event\'?',
        ),
        (
            {"a": {"services": ["backend"], "actions": [{"type": "email"}], "filters": [{"type": "levels"}]}},
            {},
            'sentry-stacks:alerts.a.filters[0].type = "levels": unknown filter type; did you mean \'level\'? allowed: age_comparison',
        ),
        (
            {"a": {"services": ["backend"], "actions": [{"type": "email"}], "monitors": ["nope"]}},
            {},
            'sentry-stacks:alerts.a.monitors[0] = "nope": no such monitor',
        ),
        (
            {"a": {"services": ["backend"], "actions": [{"type": "email"}], "owner": "bob"}},
            {},
            'sentry-stacks:alerts.a.owner = "bob": must be team:<id> or user:<id>',
        ),
        (
            {
                "A b": {"services": ["backend"], "actions": [{"type": "email"}]},
                "a-b": {"services": ["backend"], "actions": [{"type": "email"}]},
            },
            {},
            "sentry-stacks:alerts.a-b = ",
        ),
        (
            {},
            {
                "m": {
                    "service": "backend",
                    "aggregate": "count()",
                    "conditions": [{"type": "gte", "comparison": 1, "result": 75}],
                }
            },
            "sentry-stacks:monitors.m.conditions[0].type = \"gte\": unknown value; did you mean 'gt'? allowed: anomaly_detection, gt, lte",
        ),
        (
            {},
            {
                "m": {
                    "service": "backend",
                    "aggregate": "count()",
                    "conditions": [{"type": "gt", "comparison": 1, "result": 80}],
                }
            },
            "sentry-stacks:monitors.m.conditions[0].result = 80: must be 75 (high priority), 50 (low) or 0 (resolved)",
        ),
        (
            {},
            {
                "m": {
                    "service": "backend",
                    "aggregate": "count()",
                    "conditions": [{"type": "gt", "comparison": 1}],
                    "timeWindowSeconds": 30,
                }
            },
            "sentry-stacks:monitors.m.timeWindowSeconds = 30: must be one of Sentry's monitor windows, in seconds: 60, 300,",
        ),
        (
            {},
            {
                "m": {
                    "service": "backend",
                    "aggregate": "count()",
                    "conditions": [{"type": "gt", "comparison": 1}],
                    "detectionType": "percent",
                }
            },
            "sentry-stacks:monitors.m.comparisonDeltaSeconds = (not set): required with detectionType percent",
        ),
        (
            {},
            {
                "m": {
                    "service": "backend",
                    "aggregate": "count()",
                    "conditions": [{"type": "gt", "comparison": 1}],
                    "dataset": "logs",
                }
            },
            'sentry-stacks:monitors.m.dataset = "logs": unknown value; allowed: events',
        ),
        (
            {},
            {"m": {"service": "backend", "conditions": [{"type": "gt", "comparison": 1}]}},
            "sentry-stacks:monitors.m.aggregate = (not set): required",
        ),
    ],
)
def test_alert_and_monitor_problems(alerts: dict[str, Any], monitors: dict[str, Any], expected: str) -> None:
    found = problems(alerts=alerts, monitors=monitors)
    assert any(p.startswith(expected) for p in found), found


def test_monitor_window_is_one_of_sentrys_listed_with_every_other_problem() -> None:
    monitor = {"service": "backend", "aggregate": "count()", "conditions": [{"type": "gt", "comparison": 1}]}
    found = problems(driver="kubernetes", monitors={"error-spike": {**monitor, "timeWindowSeconds": 61}})
    assert (
        "sentry-stacks:monitors.error-spike.timeWindowSeconds = 61: must be one of Sentry's monitor windows,"
        " in seconds: 60, 300, 600, 900, 1800, 3600, 7200, 14400, 86400"
    ) in found
    assert any(p.startswith('sentry-stacks:driver = "kubernetes"') for p in found) and len(found) == 2
    windowed = settings_for("dev", monitors={"error-spike": {**monitor, "timeWindowSeconds": 900}})
    assert windowed.monitors["error-spike"].time_window_seconds == 900


def test_alerts_map_services_to_project_owners() -> None:
    s = settings_for(
        "dev", alerts={"w": {"services": ["worker", "backend"], "actions": [{"type": "email"}]}}, monitors={}
    )
    assert [s.owner_of(name) for name in s.alerts["w"].services] == ["backend", "backend"]


# --------------------------------------------------------------------------- secrets


def test_secret_values_are_masked() -> None:
    svc = services(backend={"environment": {"DJANGO_SECRET_KEY": "${hunter2}"}})
    found = problems(services=svc, secret_keys=("sentry-stacks:services",))
    assert found == [
        "sentry-stacks:services.backend.environment.DJANGO_SECRET_KEY = [secret]: unknown placeholder;"
        " allowed: ${stack}, ${environment}, ${release}, ${app}, ${<service>.host|port|bind|url|publicUrl}"
        " with <service> one of self, backend, beat, frontend, redis, worker; write $${ for a literal ${"
    ]


def test_a_frontend_cannot_reload_its_dsn_from_a_file() -> None:
    found = one(serviceOverrides={"frontend": {"dsnReload": "file"}})
    assert "frontend.dsnReload" in found and "JavaScript runtime" in found and "dsnReload: restart" in found


@pytest.mark.parametrize(("platform", "language"), [("go", "go"), ("ruby-rails", "ruby"), ("java-spring-boot", "java")])
def test_a_service_of_an_sdk_without_a_runtime_package_cannot_reload_its_dsn_from_a_file(platform: str,
                                                                                         language: str) -> None:
    """Nothing re-reads a Go (Ruby, Java...) service's env file: after a rotation it would keep the old key."""
    sentry = {"project": "sentry-stacks-demo-backend", "platform": platform}
    found = one(services=services(backend={"sentry": sentry}))  # the reference backend has dsnReload: file
    assert found.startswith(f'sentry-stacks:services.backend.dsnReload = "file": platform {platform} runs the'
                            f" {language} SDK, which no runtime package serves here"), found
    assert "old key" in found and "use dsnReload: restart" in found
    # a service with its DSN (dsnFrom) runs that SDK too, unless it names a framework with a runtime package
    worker = one(services=services(backend={"sentry": sentry, "dsnReload": "restart"}, worker={"framework": None}))
    assert worker.startswith('sentry-stacks:services.worker.dsnReload = "file": platform'), worker
    ok = settings_for("dev", services=services(backend={"sentry": sentry, "dsnReload": "restart"}))
    assert (ok.service("worker").sdk, ok.service("worker").dsn_reload) == ("python", "file")  # celery: the package


def test_a_frontend_cannot_set_the_public_sentry_names_itself() -> None:
    found = one(serviceOverrides={"frontend": {"environment": {"PUBLIC_SENTRY_DSN": "http://k@evil.example/1"}}})
    assert "PUBLIC_SENTRY_DSN is set by the toolkit" in found


def test_a_webhook_action_goes_to_the_webhooks_plugin_with_its_urls() -> None:
    from infra.settings.sentry_objects import ActionSettings

    action = ActionSettings.model_validate({"type": "webhook", "urls": ["https://hooks.example.com/sentry"]})
    assert (action.target_type, action.target_identifier, action.integration_id) == ("specific", "webhooks", None)
    assert action.urls == ["https://hooks.example.com/sentry"]
    for bad in ({"type": "webhook", "urls": ["ftp://x"]}, {"type": "email", "urls": ["https://x.example"]}):
        try:
            ActionSettings.model_validate(bad)
        except ValueError as exc:
            assert "urls" in str(exc)
        else:
            raise AssertionError(f"accepted {bad}")


def test_source_maps_of_a_service() -> None:
    frontend = stack_config("dev")["sentry-stacks:services"]["frontend"]["sentry"]
    assert frontend["sourceMaps"] == {"path": "dist/sourcemaps/frontend"}  # the reference frontend's build
    spec = settings_for("dev").service("frontend").sentry
    assert spec is not None and spec.source_maps is not None
    assert (spec.source_maps.path, spec.source_maps.url_prefix, spec.source_maps.dist) == (
        "dist/sourcemaps/frontend", "~/", None)
    bad = {**frontend, "sourceMaps": {"path": "", "urlPrefix": "/static", "dist": "two words", "token": "x"}}
    found = problems(services=services(frontend={"sentry": bad}), serviceOverrides=None)
    assert found == [
        "sentry-stacks:services.frontend.sentry.sourceMaps.token = \"x\": unknown key; allowed: dist, path, urlPrefix",
        'sentry-stacks:services.frontend.sentry.sourceMaps.path = "": must be a folder path (the build\'s .js files and their .map files)',
        "sentry-stacks:services.frontend.sentry.sourceMaps.urlPrefix = \"/static\": must be '~/' (any host), 'https://host/' or 'app:///', then a path, e.g. '~/static/js'",
        'sentry-stacks:services.frontend.sentry.sourceMaps.dist = "two words": must be a dist name: 1-64 characters, no \'/\' or spaces',
    ], found
