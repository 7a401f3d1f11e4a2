"""The files rendered from each service's environment mapping (infra/envs.py).

That one mapping is written to the service's ``.env`` file *and* given to its container (inline in
``docker-compose.yml``, or as the pulumi-docker container's ``envs``), so the two can never disagree.
:func:`render_env_file` checks it: the rendered file is parsed back with :func:`parse_dotenv` and must give exactly
the mapping.

Templates (``infra/templates/*.j2``) use Jinja with ``StrictUndefined``; values go through filters:

* ``dotenv``: ``'value'`` (single quotes: literal, no escapes, no ``$`` expansion) when the value has no
  ``'``, ``\\``, or line break; otherwise ``"value"`` with ``\\\\``, ``\\"``, ``\\n``, ``\\r``, ``\\t``
  and ``\\$`` escapes. This is the docker compose (v2) env-file syntax. python-dotenv (and compose v1,
  which uses it) reads the same except ``${...}``, which it expands even in single quotes, and ``\\$``,
  where it keeps the backslash. Containers never read these files: they get the mapping directly.
* ``yaml``: a YAML double-quoted scalar (every special character escaped; keys sorted).
* ``compose``: ``yaml`` after doubling every ``$`` (compose would otherwise interpolate it).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

import infra.contract as contract
from infra import privacy as pv
from infra.commands import RENDER_ENV
from infra.envs import all_envs, container_dsn, service_env
from infra.sampling import SampleRates
from infra.settings import ServiceSettings, StackSettings

TEMPLATES = Path(__file__).resolve().parent / "templates"
COMPOSE_FILE = "docker-compose.yml"
LABEL_PREFIX = "sentry-stacks"
#: ``dsnReload: file``: the deploy folder is mounted read-only here and SENTRY_STACKS_ENV_FILE names the
#: service's env file in it; the variables in LIVE_KEYS are left out of the inline environment, so a new
#: DSN changes only the env file (which the app re-reads) and never the compose file (no restart).
LIVE_DIR = "/run/sentry-stacks"
LIVE_ENV_VAR = "SENTRY_STACKS_ENV_FILE"
LIVE_KEYS = ("SENTRY_DSN",)
#: what every Sentry SDK reads from the environment by itself (sentry-python, JavaScript, sentry-go, sentry-ruby...)
SDK_READS = ("SENTRY_DSN", "SENTRY_ENVIRONMENT", "SENTRY_RELEASE")
_SWARM_RESTART = {"no": "none", "on-failure": "on-failure", "always": "any", "unless-stopped": "any"}


# --------------------------------------------------------------------------- quoting

_SINGLE_OK = re.compile(r"^[^'\\\n\r]*$")
_DQ_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t", "$": "\\$"}


def dotenv_quote(value: Any) -> str:
    """Quote one value for a ``KEY=value`` line (see the module docstring)."""
    text = _text(value)
    if "\x00" in text:
        raise ValueError("an environment value cannot contain a NUL character")
    if _SINGLE_OK.match(text):
        return f"'{text}'"
    return '"' + "".join(_DQ_ESCAPES.get(ch, ch) for ch in text) + '"'


def _yaml_escape(ch: str) -> str:
    code = ord(ch)
    if ch == "\\":
        return "\\\\"
    if ch == '"':
        return '\\"'
    if ch == "\n":
        return "\\n"
    if ch == "\t":
        return "\\t"
    if ch == "\r":
        return "\\r"
    if code < 0x20 or 0x7F <= code <= 0x9F or code in (0x2028, 0x2029, 0xFEFF) or 0xD800 <= code <= 0xDFFF:
        return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"
    return ch


def yaml_quote(value: Any) -> str:
    """A YAML double-quoted scalar that any YAML 1.1/1.2 parser reads back as exactly `value`."""
    return '"' + "".join(_yaml_escape(ch) for ch in _text(value)) + '"'


def compose_quote(value: Any) -> str:
    """`yaml_quote` for docker compose files: ``$`` doubled, so compose does not interpolate it."""
    return yaml_quote(_text(value).replace("$", "$$"))


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


_DOTENV_LINE = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=(.*)$", re.DOTALL)
_DQ_UNESCAPES = {"\\": "\\", '"': '"', "n": "\n", "r": "\r", "t": "\t", "$": "$"}


def parse_dotenv(text: str) -> dict[str, str]:
    """Read back what :func:`dotenv_quote` writes (comments, blank lines, quoted values).

    Strict on purpose: an unquoted or badly quoted value raises ValueError, so a hand-edited file
    that drifted from the toolkit's format is noticed.
    """
    out: dict[str, str] = {}
    i, lines = 0, text.split("\n")
    while i < len(lines):
        line = lines[i]
        i += 1
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = _DOTENV_LINE.match(line)
        if not match:
            raise ValueError(f"line {i}: expected KEY='value' or KEY=\"value\"")
        key, rest = match.groups()
        if rest.startswith("'") and rest.endswith("'") and len(rest) >= 2:
            out[key] = rest[1:-1]
            continue
        if not rest.startswith('"'):
            raise ValueError(f"line {i}: the value of {key} is not quoted")
        value: list[str] = []
        j = 1
        while True:
            if j >= len(rest):
                raise ValueError(f"line {i}: unterminated double-quoted value of {key}")
            ch = rest[j]
            if ch == "\\" and j + 1 < len(rest):
                value.append(_DQ_UNESCAPES.get(rest[j + 1], "\\" + rest[j + 1]))
                j += 2
            elif ch == '"':
                if rest[j + 1 :].strip():
                    raise ValueError(f"line {i}: text after the closing quote of {key}")
                break
            else:
                value.append(ch)
                j += 1
        out[key] = "".join(value)
    return out


# --------------------------------------------------------------------------- templates


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # noqa: S701 - dotenv and YAML, not HTML; values are quoted by the filters
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(dotenv=dotenv_quote, yaml=yaml_quote, compose=compose_quote)
    return env


def _header(settings: StackSettings, what: str) -> str:
    """The files' first comment; the command it names is the toolkit's console script (infra/render_env.py), in the
    venv next to the project as the README installs it (this repository has it there too)."""
    return (
        f"{what} of stack {settings.stack} ({settings.project}), rendered by sentry-stacks.\n"
        "# Do not edit: `pulumi up` rewrites it, and in the project folder\n"
        f"# `venv/bin/{RENDER_ENV} --stack {settings.stack} --check` reports edits."
    )


def privacy_lines(settings: StackSettings, kept: Mapping[str, Any] | None = None) -> list[str]:
    """What the environment collects and what Sentry scrubs, for the env files' comment (infra/privacy/sdk.py).

    `kept`: the service's project's ``privacyKept`` and ``privacyUsers`` outputs: the fields Sentry keeps stricter
    than this stack asks, because another stack sharing the project asked for them."""
    values = pv.project_values(settings.privacy, settings.shared_privacy)
    fields = dict((kept or {}).get("kept") or {})
    users = [str(u) for u in (kept or {}).get("users") or []]
    return pv.describe(settings.privacy.collection, {**values, **fields}, kept={k: users for k in fields})


def foreign_sdk(svc: ServiceSettings) -> str | None:
    """The language of a service that runs a foreign SDK (infra/contract.py: a platform neither Python nor JavaScript,
    ``go``, ``ruby``, ``java``..., and no framework with a runtime package): no runtime package reads its file, its own
    SDK and code do."""
    return contract.foreign_language(svc.sdk, svc.platform)


def foreign_maps(svc: ServiceSettings, env: Mapping[str, str]) -> tuple[str, ...]:
    """The rendered values a foreign SDK's code maps to its options: the contract's for its SDK, but those the SDK
    reads by itself (SDK_READS) and ``SENTRY_DATA_COLLECTION`` (the privacy lines say it)."""
    if foreign_sdk(svc) is None:
        return ()
    skip = {*SDK_READS, "SENTRY_DATA_COLLECTION"}
    return tuple(sorted(n for n in contract.server_names(svc.sdk) if n in env and n not in skip))


def sentry_kind(svc: ServiceSettings) -> str:
    """What the (Python) backend env file's header says the service is: its framework, or, for a service that reports
    with another's DSN (``dsnFrom``) and names no framework of its own, whose DSN it uses (an RQ worker
    with the DSN of a Flask app is no Flask app). A Go (Ruby, Java...) service is not called sentry-python."""
    sdk = f"the {language} SDK" if (language := foreign_sdk(svc)) else "sentry-python"
    if svc.framework_own:
        return f"{svc.framework}, {sdk}"
    return f"{sdk}, with the DSN of {svc.dsn_service}"


def render_env_file(
    settings: StackSettings, svc: ServiceSettings, env: Mapping[str, str], kept: Mapping[str, Any] | None = None
) -> str:
    """The service's ``.env`` file; raises ValueError if it would not read back as exactly `env`."""
    text = (
        _environment()
        .get_template(f"{svc.env_template}.env.j2")
        .render(
            env=dict(sorted(env.items())), service=svc, header=_header(settings, f"Environment of {svc.name}"),
            sentry_kind=sentry_kind(svc), foreign_sdk=foreign_sdk(svc), foreign_maps=foreign_maps(svc, env),
            privacy=privacy_lines(settings, kept), public_prefix=contract.public_prefix(svc.framework) or "",
            ns=settings.project,  # the keys a comment names are the project's own (shop:services.api.environment)
        )
    )
    parsed = parse_dotenv(text)
    if parsed != dict(env):
        missing = sorted(set(env) - set(parsed))
        extra = sorted(set(parsed) - set(env))
        changed = sorted(k for k in set(env) & set(parsed) if env[k] != parsed[k])
        raise ValueError(
            f"infra/templates/{svc.env_template}.env.j2 does not render the environment of {svc.name} faithfully:"
            f" missing {missing}, unexpected {extra}, changed {changed}"
        )
    return text


@dataclass(frozen=True)
class ComposeService:
    """What the compose template needs of one service (paths relative to the compose file)."""

    svc: ServiceSettings
    env: dict[str, str]
    build_context: str | None
    dockerfile: str | None
    depends_on: tuple[tuple[str, str], ...]
    labels: tuple[tuple[str, str], ...]
    #: ``dsnReload: file``: the deploy folder (relative to the compose file) mounted at LIVE_DIR
    live_mount: str | None = None
    #: swarm: ``start-first`` (healthcheck, no host-mode published port) or ``stop-first``
    update_order: str = "stop-first"
    #: swarm: ``deploy.restart_policy.condition``
    restart_condition: str = "any"


def container_env(svc: ServiceSettings, env: Mapping[str, str]) -> dict[str, str]:
    """What the compose file gives the container inline: the env mapping, or with ``dsnReload: file`` the
    mapping without LIVE_KEYS plus SENTRY_STACKS_ENV_FILE (the app reads the rest from that file)."""
    if svc.dsn_reload != "file":
        return dict(sorted(env.items()))
    inline = {k: v for k, v in env.items() if k not in LIVE_KEYS}
    inline[LIVE_ENV_VAR] = f"{LIVE_DIR}/{svc.env_file}"
    return dict(sorted(inline.items()))


def update_order(settings: StackSettings, svc: ServiceSettings) -> str:
    """Swarm rolling updates start the new task first where the service allows it: it has a healthcheck
    (so "started" means "healthy") and publishes no host-mode port (two tasks on one node would collide)."""
    host_port = settings.swarm_publish_mode == "host" and svc.public and svc.port is not None
    return "start-first" if svc.healthcheck is not None and not host_port else "stop-first"


def service_labels(settings: StackSettings, svc: ServiceSettings) -> dict[str, str]:
    """Labels on every container: stack, service, environment, release, plus stack and service labels."""
    labels = {
        f"{LABEL_PREFIX}.project": settings.project,
        f"{LABEL_PREFIX}.stack": settings.stack,
        f"{LABEL_PREFIX}.service": svc.name,
        f"{LABEL_PREFIX}.environment": settings.environment,
        f"{LABEL_PREFIX}.release": settings.release,
    }
    labels.update(settings.labels)
    labels.update(svc.labels)
    return dict(sorted(labels.items()))


def render_compose(settings: StackSettings, envs: Mapping[str, Mapping[str, str]], root: Path | None = None) -> str:
    """``docker-compose.yml`` for the stack; build contexts relative to the deploy folder."""
    root = root or Path.cwd()
    deploy = Path(settings.deploy_dir)
    deploy_abs = deploy if deploy.is_absolute() else root / deploy
    by_name = {s.name: s for s in settings.services}
    services: list[ComposeService] = []
    for svc in settings.services:
        context = dockerfile = None
        if svc.build is not None:
            ctx = Path(svc.build.context)
            context = os.path.relpath(ctx if ctx.is_absolute() else root / ctx, deploy_abs)
            dockerfile = svc.build.dockerfile
        depends = tuple(
            (dep, "service_healthy" if by_name[dep].healthcheck is not None else "service_started")
            for dep in svc.depends_on
        )
        labels = tuple(service_labels(settings, svc).items())
        services.append(
            ComposeService(
                svc,
                container_env(svc, envs[svc.name]),
                context,
                dockerfile,
                depends,
                labels,
                live_mount="./" if svc.dsn_reload == "file" else None,
                update_order=update_order(settings, svc),
                restart_condition=_SWARM_RESTART.get(svc.restart, "any"),
            )
        )
    return (
        _environment()
        .get_template("docker-compose.yml.j2")
        .render(
            services=services,
            network_mode=settings.network_mode,
            network_name=settings.compose_project,
            header=_header(settings, "Containers"),
            swarm=settings.driver == "swarm",
            endpoint_mode=settings.swarm_endpoint_mode,
            publish_mode=settings.swarm_publish_mode,
            live_dir=LIVE_DIR,
        )
    )


@dataclass(frozen=True)
class RenderedSet:
    """Every file of a stack (name inside the deploy folder -> content) and the env mappings."""

    files: dict[str, str]
    envs: dict[str, dict[str, str]]


def render_all(
    settings: StackSettings, dsns: Mapping[str, str], rates: SampleRates, root: Path | None = None,
    kept: Mapping[str, Mapping[str, Any]] | None = None,
) -> RenderedSet:
    """Every file of the stack. `kept`: per service, its project's privacy fields Sentry keeps stricter than asked."""
    envs = all_envs(settings, dsns, rates)
    files = {svc.env_file: render_env_file(settings, svc, envs[svc.name], (kept or {}).get(svc.name))
             for svc in settings.services}
    files[COMPOSE_FILE] = render_compose(settings, envs, root)
    return RenderedSet(files=dict(sorted(files.items())), envs=envs)


__all__ = [
    "COMPOSE_FILE",
    "LIVE_DIR",
    "LIVE_ENV_VAR",
    "LIVE_KEYS",
    "SDK_READS",
    "TEMPLATES",
    "ComposeService",
    "RenderedSet",
    "all_envs",
    "compose_quote",
    "container_dsn",
    "container_env",
    "dotenv_quote",
    "foreign_maps",
    "foreign_sdk",
    "parse_dotenv",
    "privacy_lines",
    "render_all",
    "render_compose",
    "render_env_file",
    "service_env",
    "service_labels",
    "update_order",
    "yaml_quote",
]
