"""Rendering: quoting of nasty values for dotenv and YAML, one env mapping per service, the compose file."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import jinja2
import pytest
import yaml

import infra.contract as contract
from infra.render import (
    COMPOSE_FILE,
    compose_quote,
    container_dsn,
    container_env,
    dotenv_quote,
    parse_dotenv,
    render_all,
    render_env_file,
    service_env,
    yaml_quote,
)
from infra.sampling import derive_rates
from tests.unit.settings_support import DSNS, RELEASE, settings_for, stack_config

NASTY = [
    "",
    "plain",
    "two words",
    "  leading and trailing spaces  ",
    "it's",
    'say "hi"',
    "both ' and \"",
    "# not a comment",
    "value # trailing hash",
    "$HOME and ${HOME} and $$",
    "back\\slash \\n not a newline",
    "line one\nline two",
    "carriage\r\nreturn",
    "tab\there",
    "= equals = ",
    "unicode: é ü 😀 \u2028 \u00a0",
    "yes",
    "no",
    "null",
    "~",
    "0755",
    "1e3",
    "- dash",
    "key: value",
    "{a: b}",
    "[1, 2]",
    "*anchor &ref !tag",
    "%percent @at `backtick`",
    "\x07bell \x1b[31mansi\x7f",
]


def as_config(value: str) -> str:
    """A value as written in the stack config, where '${' starts a placeholder and '$${' is a literal '${'."""
    return value.replace("${", "$${")


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def docker_compose() -> list[str]:
    """The compose CLI, or skip (fail in CI) saying what to install."""
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    if shutil.which("docker") and subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0:
        return ["docker", "compose"]
    message = "docker-compose is not installed: apt-get install docker-compose (or run `make docker`)"
    if in_ci():
        pytest.fail(f"CI requires the real component. {message}")
    pytest.skip(message)
    raise AssertionError("unreachable")


# --------------------------------------------------------------------------- quoting


@pytest.mark.parametrize("value", NASTY)
def test_dotenv_round_trip(value: str) -> None:
    line = f"KEY={dotenv_quote(value)}"
    assert "\n" not in line and "\r" not in line
    assert parse_dotenv(line + "\n") == {"KEY": value}


@pytest.mark.parametrize("value", NASTY)
def test_yaml_round_trip(value: str) -> None:
    assert yaml.safe_load(f"key: {yaml_quote(value)}\n") == {"key": value}
    assert yaml.safe_load(f"- {yaml_quote(value)}\n") == [value]


def test_dotenv_quoting_rules() -> None:
    assert dotenv_quote("a b") == "'a b'"
    assert dotenv_quote("$HOME") == "'$HOME'"  # single quotes: no expansion anywhere
    assert dotenv_quote("it's") == '"it\'s"'
    assert dotenv_quote("a\nb") == '"a\\nb"'
    assert dotenv_quote('x\\"$y') == '"x\\\\\\"\\$y"'
    assert dotenv_quote(True) == "'true'"
    with pytest.raises(ValueError, match="NUL"):
        dotenv_quote("a\x00b")


def test_compose_doubles_dollars() -> None:
    assert compose_quote("$HOME ${X}") == '"$$HOME $${X}"'
    assert yaml.safe_load(f"k: {compose_quote('a$b')}") == {"k": "a$$b"}


def test_parse_dotenv_is_strict() -> None:
    with pytest.raises(ValueError, match="not quoted"):
        parse_dotenv("A=unquoted\n")
    with pytest.raises(ValueError, match="unterminated"):
        parse_dotenv('A="open\n')
    with pytest.raises(ValueError, match="expected KEY="):
        parse_dotenv("not a line\n")
    assert parse_dotenv("# comment\n\nA='1'\n  # indented comment\nB=\"2\"\n") == {"A": "1", "B": "2"}


def test_compose_v1_reads_the_dotenv_values_the_same(tmp_path: Path) -> None:
    """Through a real compose env_file, values read back the same in docker-compose, except those with '${'
    (python-dotenv, used by compose v1, expands it even in single quotes) or with '$' next to a quote,
    backslash or line break (double-quoted '\\$')."""
    cmd = docker_compose()
    values = {f"V{i}": v for i, v in enumerate(NASTY) if "${" not in v}
    values = {k: v for k, v in values.items() if not ("$" in v and any(c in v for c in "'\\\n\r"))}
    values = {k: v for k, v in values.items() if "\x1b" not in v and "\x07" not in v and "\x7f" not in v}
    (tmp_path / "app.env").write_text("".join(f"{k}={dotenv_quote(v)}\n" for k, v in values.items()))
    (tmp_path / "docker-compose.yml").write_text("services:\n  app:\n    image: busybox\n    env_file: app.env\n")
    out = subprocess.run(
        [*cmd, "-p", "t", "-f", "docker-compose.yml", "config"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    env = yaml.safe_load(out)["services"]["app"]["environment"]
    # compose writes its config back with '$' escaped as '$$'
    got = {k: (v if v is not None else "").replace("$$", "$") for k, v in env.items()}
    assert got == values


# --------------------------------------------------------------------------- env mappings


def test_one_mapping_per_service() -> None:
    s = settings_for("dev")
    rates = derive_rates(s.sampling)
    backend = service_env(s, s.service("backend"), DSNS, rates)
    assert list(backend) == sorted(backend)
    assert backend["SENTRY_DSN"] == DSNS["backend"] and backend["SENTRY_ENVIRONMENT"] == "development"
    assert backend["SENTRY_RELEASE"] == RELEASE and backend["SENTRY_TRACES_SAMPLE_RATE"] == "1.0"
    assert backend["SENTRY_PROFILE_SESSION_SAMPLE_RATE"] == "1.0" and backend["SENTRY_PROFILE_LIFECYCLE"] == "trace"
    assert json.loads(backend["SENTRY_DATA_COLLECTION"])["user_info"] is True and backend["SENTRY_DEBUG"] == "false"
    assert "SENTRY_SEND_DEFAULT_PII" not in backend  # the SDK warns that send_default_pii is deprecated
    assert backend["PORT"] == "8000" and backend["BIND"] == "127.0.0.1"
    assert "SENTRY_REPLAYS_SESSION_SAMPLE_RATE" not in backend
    worker = service_env(s, s.service("worker"), DSNS, rates)
    assert worker["SENTRY_DSN"] == DSNS["backend"] and "PORT" not in worker
    frontend = service_env(s, s.service("frontend"), DSNS, rates)
    assert frontend["PUBLIC_SENTRY_REPLAYS_SESSION_SAMPLE_RATE"] == "0.1"
    assert "SENTRY_PROFILES_SAMPLE_RATE" not in frontend
    assert "SENTRY_REPLAYS_SESSION_SAMPLE_RATE" not in frontend  # the browser's only: PUBLIC_ only
    assert frontend["PUBLIC_BACKEND_URL"] == "http://127.0.0.1:8000"
    # the SvelteKit server reads SENTRY_*, the browser the same values as PUBLIC_* ($env/dynamic/public)
    for name in ("DSN", "ENVIRONMENT", "RELEASE", "SAMPLE_RATE", "TRACES_SAMPLE_RATE", "DEBUG", "DATA_COLLECTION"):
        assert frontend[f"PUBLIC_SENTRY_{name}"] == frontend[f"SENTRY_{name}"], name
    assert frontend["PUBLIC_SENTRY_DSN"] == DSNS["frontend"]
    assert sorted(k for k in frontend if k.startswith("PUBLIC_")) == sorted(
        [*(f"PUBLIC_{n}" for n in contract.rendered_public_names()), "PUBLIC_BACKEND_URL"])
    assert service_env(s, s.service("redis"), DSNS, rates) == {
        "BIND": "127.0.0.1",
        "PORT": "6380",
        "REDIS_PORT": "6380",
    }
    with pytest.raises(KeyError, match="no DSN for service backend"):
        service_env(s, s.service("worker"), {}, rates)


def test_dsn_host_for_containers() -> None:
    assert container_dsn("http://abc@127.0.0.1:9000/3", "host.docker.internal:9000") == (
        "http://abc@host.docker.internal:9000/3"
    )
    assert container_dsn("http://abc@127.0.0.1:9000/3", None) == "http://abc@127.0.0.1:9000/3"
    s = settings_for("dev", dsnHost="sentry.internal")
    env = service_env(s, s.service("backend"), DSNS, derive_rates(s.sampling))
    assert env["SENTRY_DSN"] == "https://0123456789abcdef0123456789abcdef@sentry.internal/11"
    frontend = service_env(s, s.service("frontend"), DSNS, derive_rates(s.sampling))
    assert "@sentry.internal/" in frontend["SENTRY_DSN"]  # the Node server runs in a container ...
    assert frontend["PUBLIC_SENTRY_DSN"] == DSNS["frontend"]  # ... the browser does not


def test_a_frontend_service_secret_never_becomes_public() -> None:
    s = settings_for("dev", serviceOverrides={"frontend": {"environment": {"SENTRY_AUTH_TOKEN": "sntrys_secret"}}})
    env = service_env(s, s.service("frontend"), DSNS, derive_rates(s.sampling))
    assert env["SENTRY_AUTH_TOKEN"] == "sntrys_secret"
    assert not any("sntrys_secret" in v for k, v in env.items() if k.startswith("PUBLIC_"))


def test_env_file_holds_exactly_the_mapping() -> None:
    s = settings_for(
        "dev", serviceOverrides={"backend": {"environment": {f"NASTY_{i}": as_config(v) for i, v in enumerate(NASTY)}}}
    )
    rendered = render_all(s, DSNS, derive_rates(s.sampling))
    for svc in s.services:
        assert parse_dotenv(rendered.files[svc.env_file]) == rendered.envs[svc.name]
    text = rendered.files["backend.env"]
    assert text.startswith("# Environment of backend of stack dev (sentry-stacks), rendered by sentry-stacks.\n")
    keys = [line.split("=", 1)[0] for line in text.split("\n") if line and not line.startswith("#")]
    sentry_keys = [k for k in keys if k.startswith("SENTRY_")]
    assert sentry_keys == sorted(sentry_keys) and keys[len(sentry_keys) :] == sorted(keys[len(sentry_keys) :])


def test_the_env_header_of_a_worker_with_another_services_dsn_does_not_name_that_services_framework() -> None:
    """A new user's trial: the env file of an RQ worker (``dsnFrom: web``, a Flask app) said "Sentry (flask, ...)"."""
    web = {"image": "shop/web:1", "port": 8000, "sentry": {"project": "shop-web", "platform": "python-flask"}}
    s = settings_for("prod", services={"web": web, "worker": {"image": "shop/web:1", "dsnFrom": "web"},
                                       "beat": {"image": "shop/web:1", "dsnFrom": "web", "framework": "celery"}},
                     serviceOverrides={}, alerts={}, monitors={}, cronMonitors={}, keys={})  # fmt: skip
    rendered = render_all(s, {"web": DSNS["backend"]}, derive_rates(s.sampling))
    kinds = {name: rendered.files[f"{name}.env"].split("\n")[3] for name in ("web", "worker", "beat")}
    assert kinds["web"].startswith("# Sentry (flask, sentry-python): read by"), kinds
    assert kinds["worker"].startswith("# Sentry (sentry-python, with the DSN of web): read by"), kinds
    assert kinds["beat"].startswith("# Sentry (celery, sentry-python): read by"), kinds  # its own, declared
    assert "flask" not in rendered.files["worker.env"]


def test_a_node_worker_with_a_nextjs_apps_dsn_gets_no_browser_copies() -> None:
    """A worker of the same code as a Next.js app (``dsnFrom: web``, no framework of its own) runs the Node SDK: its
    env file is a JavaScript server's, with no NEXT_PUBLIC_ copies and no Next.js header; one that declares its
    framework keeps it."""
    web = {"image": "shop/web:1", "port": 3000, "sentry": {"project": "shop-web", "platform": "javascript-nextjs"}}
    s = settings_for("prod", services={"web": web, "worker": {"image": "shop/web:1", "dsnFrom": "web"},
                                       "preview": {"image": "shop/web:1", "port": 3001, "dsnFrom": "web",
                                                   "framework": "nextjs"}},
                     serviceOverrides={}, alerts={}, monitors={}, cronMonitors={}, keys={})  # fmt: skip
    by_name = {svc.name: svc for svc in s.services}
    assert (by_name["web"].framework, by_name["worker"].framework, by_name["preview"].framework) == (
        "nextjs", "node", "nextjs")
    assert by_name["worker"].sdk == "javascript"
    rendered = render_all(s, {"web": DSNS["frontend"]}, derive_rates(s.sampling))
    worker, web_env = rendered.files["worker.env"], rendered.files["web.env"]
    assert "NEXT_PUBLIC_SENTRY_DSN=" in web_env and "NEXT_PUBLIC_SENTRY_DSN=" in rendered.files["preview.env"]
    assert "NEXT_PUBLIC_" not in worker and "Next.js" not in worker
    assert "# Sentry for a JavaScript server (node;" in worker and "SENTRY_DSN=" in worker
    assert not [w for w in s.warnings if "worker" in w]


def test_the_env_file_of_a_go_service_names_its_own_sdk_and_the_variables_it_reads() -> None:
    """A new user's trial with a Go API (platform go, sentry-go): its env file said "Sentry (other, sentry-python):
    read by sentry_stacks_runtime.init()", a package a Go program cannot use."""
    api = {"image": "shop/api:1", "port": 8080, "sentry": {"project": "shop-api", "platform": "go"},
           "environment": {"REDIS_ADDR": "${redis.host}:${redis.port}"}, "dependsOn": ["redis"]}
    s = settings_for("dev", services={"api": api, "worker": {"image": "shop/api:1", "dsnFrom": "api"},
                                      "redis": {"image": "redis:7", "port": 6379}},
                     sampling={"errors": 0.5, "traces": 0.25},
                     serviceOverrides={}, alerts={}, monitors={}, cronMonitors={}, keys={})  # fmt: skip
    rendered = render_all(s, {"api": DSNS["backend"]}, derive_rates(s.sampling))
    text = rendered.files["api.env"]
    assert parse_dotenv(text) == rendered.envs["api"]
    env = rendered.envs["api"]
    # what sentry-go reads by itself, and the rates its ClientOptions take from the app's code
    assert env["SENTRY_DSN"] == DSNS["backend"] and env["SENTRY_ENVIRONMENT"] == s.environment
    assert env["SENTRY_RELEASE"] == s.release
    assert (env["SENTRY_SAMPLE_RATE"], env["SENTRY_TRACES_SAMPLE_RATE"]) == ("0.5", "0.25")
    assert env["REDIS_ADDR"] == "127.0.0.1:6379" and env["PORT"] == "8080"
    assert not any(k.startswith(("PUBLIC_", "VITE_", "NEXT_PUBLIC_")) for k in env)
    comment = "\n".join(line for line in text.split("\n") if line.startswith("#"))
    assert "# Sentry (other, the go SDK): no runtime package reads this file; the go SDK reads SENTRY_DSN," in comment
    assert "sentry_stacks_runtime" not in comment and "sentry-sdk alone" not in comment
    assert "the go SDK does not read it" in comment
    worker = rendered.files["worker.env"]
    assert "# Sentry (the go SDK, with the DSN of api): no runtime package" in worker
    assert "sentry_stacks_runtime" not in worker
    python = settings_for("dev")
    assert "read by sentry_stacks_runtime.init()" in render_all(python, DSNS, derive_rates(python.sampling)).files[
        "backend.env"]


def test_a_template_that_drops_a_variable_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import infra.render as render

    s = settings_for("dev")
    env = service_env(s, s.service("redis"), DSNS, derive_rates(s.sampling))
    (tmp_path / "service.env.j2").write_text(
        "{% for k, v in env | dictsort if k != 'PORT' %}{{ k }}={{ v | dotenv }}\n{% endfor %}"
    )
    monkeypatch.setattr(render, "TEMPLATES", tmp_path)
    with pytest.raises(ValueError, match=r"does not render the environment of redis faithfully: missing \['PORT'\]"):
        render_env_file(s, s.service("redis"), env)
    (tmp_path / "service.env.j2").write_text("{{ env.NOPE }}")
    with pytest.raises(jinja2.UndefinedError):
        render_env_file(s, s.service("redis"), env)


# --------------------------------------------------------------------------- compose file


def test_compose_file_structure() -> None:
    s = settings_for("prod")
    rendered = render_all(s, DSNS, derive_rates(s.sampling))
    doc = yaml.safe_load(rendered.files[COMPOSE_FILE])
    assert sorted(doc["services"]) == ["backend", "beat", "frontend", "redis", "worker"] and "networks" not in doc
    backend = doc["services"]["backend"]
    # dsnReload: file (the reference backend): every variable but the DSN inline, the DSN from the mounted file
    live = {k: v.replace("$", "$$") for k, v in rendered.envs["backend"].items() if k != "SENTRY_DSN"}
    assert backend["environment"] == {**live, "SENTRY_STACKS_ENV_FILE": "/run/sentry-stacks/backend.env"}
    assert backend["volumes"] == [{"type": "bind", "source": "./", "target": "/run/sentry-stacks", "read_only": True}]
    assert backend["user"] == "10001"
    # dsnReload: restart (the frontend): the whole mapping inline, no mount
    frontend = doc["services"]["frontend"]
    assert frontend["environment"] == {k: v.replace("$", "$$") for k, v in rendered.envs["frontend"].items()}
    assert "volumes" not in frontend and "user" not in frontend
    assert backend["network_mode"] == "host" and "ports" not in backend
    assert backend["healthcheck"] == {
        "test": ["CMD", "python3", "/app/healthcheck.py", "web"],
        "interval": "3s",
        "timeout": "4s",
        "retries": 40,
        "start_period": "5s",
    }
    assert backend["depends_on"] == {"redis": {"condition": "service_healthy"}}
    assert backend["restart"] == "unless-stopped"
    assert backend["labels"]["sentry-stacks.stack"] == "prod" and backend["labels"]["sentry-stacks.release"] == RELEASE
    assert doc["services"]["worker"]["command"] == ["/app/bin/worker"]


def test_compose_file_in_bridge_mode(tmp_path: Path) -> None:
    cfg = stack_config("dev", networkMode="bridge")
    cfg["sentry-stacks:serviceOverrides"]["backend"].update(hostPort=18000, build={"context": "demo/backend"})
    from infra.settings import load_settings

    s = load_settings(cfg, stack="dev", git_release=lambda: RELEASE, environ={})
    doc = yaml.safe_load(render_all(s, DSNS, derive_rates(s.sampling), root=tmp_path).files[COMPOSE_FILE])
    backend = doc["services"]["backend"]
    assert backend["ports"] == ["127.0.0.1:18000:8000/tcp"] and "network_mode" not in backend
    assert backend["networks"] == {"default": {"aliases": ["backend"]}}
    assert backend["build"] == {"context": "../../demo/backend"}  # relative to deploy/dev
    assert backend["environment"]["REDIS_URL"] == "redis://redis:6380/0" and backend["environment"]["BIND"] == "0.0.0.0"
    assert "ports" not in doc["services"]["redis"] and doc["networks"] == {"default": {"name": "sentry-stacks-dev"}}


def test_a_service_without_variables_renders_no_environment_key(tmp_path: Path) -> None:
    """A service with no variables at all (no Sentry, no environment): no `environment:` key, which YAML would read
    as null and docker-compose 1.29 rejects the whole file for ("contains an invalid type"); the real compose
    accepts the file."""
    cmd = docker_compose()
    cfg = stack_config("dev")
    cfg["sentry-stacks:services"]["idle"] = {"image": "sentry-stacks/redis:latest", "command": ["sleep", "infinity"]}
    from infra.settings import load_settings

    s = load_settings(cfg, stack="dev", git_release=lambda: RELEASE, environ={})
    rendered = render_all(s, DSNS, derive_rates(s.sampling), root=tmp_path)
    assert rendered.envs["idle"] == {}
    doc = yaml.safe_load(rendered.files[COMPOSE_FILE])
    assert "environment" not in doc["services"]["idle"], doc["services"]["idle"]
    deploy = tmp_path / "deploy" / "dev"
    deploy.mkdir(parents=True)
    (deploy / COMPOSE_FILE).write_text(rendered.files[COMPOSE_FILE])
    proc = subprocess.run([*cmd, "-p", "sentry-stacks-dev", "-f", COMPOSE_FILE, "config"], cwd=deploy,
                          capture_output=True, text=True, env={**os.environ, "HOME": str(tmp_path)})  # fmt: skip
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("mode", ["host", "bridge"])
def test_docker_compose_config_accepts_the_file(tmp_path: Path, mode: str) -> None:
    cmd = docker_compose()
    cfg = stack_config("dev", networkMode=mode)
    cfg["sentry-stacks:serviceOverrides"]["backend"]["environment"] = {
        f"NASTY_{i}": as_config(v) for i, v in enumerate(NASTY)
    }
    from infra.settings import load_settings

    s = load_settings(cfg, stack="dev", git_release=lambda: RELEASE, environ={})
    rendered = render_all(s, DSNS, derive_rates(s.sampling), root=tmp_path)
    deploy = tmp_path / "deploy" / "dev"
    deploy.mkdir(parents=True)
    (deploy / COMPOSE_FILE).write_text(rendered.files[COMPOSE_FILE])
    proc = subprocess.run(
        [*cmd, "-p", "sentry-stacks-dev", "-f", COMPOSE_FILE, "config"],
        cwd=deploy,
        capture_output=True,
        text=True,
        env={**os.environ, "HOME": str(tmp_path)},
    )
    assert proc.returncode == 0, proc.stderr
    doc = yaml.safe_load(proc.stdout)
    for name, env in rendered.envs.items():
        got = {
            k: (v if v is not None else "").replace("$$", "$") for k, v in doc["services"][name]["environment"].items()
        }
        assert got == container_env(s.service(name), env), name  # dsnReload: file keeps the DSN in the file only
    assert "SENTRY_DSN" in doc["services"]["frontend"]["environment"]
    assert "SENTRY_DSN" not in doc["services"]["backend"]["environment"]
    assert doc["services"]["backend"]["volumes"][0]["source"] == str(deploy)  # the deploy folder, resolved
    assert json.dumps(doc["services"]["redis"]["healthcheck"]["test"]) == '["CMD", "/usr/local/bin/redis-healthcheck"]'
