"""What each service is (``services.<name>.framework``), and the variable names the toolkit owns in its environment.

A service's framework is set, or implied by its Sentry platform (``packages/contract.json``, ``frameworks``:
``python-django`` is django, ``javascript-nextjs`` nextjs, ``node-express`` node, ...). A browser platform that names
no framework (``javascript``, ``javascript-react``, ...) keeps what the toolkit rendered before it knew frameworks,
SvelteKit's ``PUBLIC_`` names, with a warning that says how to choose; any other platform is ``other`` (the
``SENTRY_*`` names in its language's SDK shape; a language without a runtime package, Go, Ruby, Java..., runs a
``foreign`` SDK: only the names its own code can use, and no ``dsnReload: file``). The framework and platform decide
the SDK of the rendered values and the prefix of the browser's copies; both come from the contract, never from here.
"""

from __future__ import annotations

import infra.contract as contract
from infra.settings.problems import Issue

FRAMEWORKS: tuple[str, ...] = contract.frameworks()
#: a browser platform that implies no framework renders as the toolkit did before frameworks
LEGACY_BROWSER = "sveltekit"
#: toolkit variables a service's own environment may set (it wins): whether events are logged; the live env file
OVERRIDABLE = frozenset({"SENTRY_STACKS_LOG_EVENTS", "SENTRY_STACKS_ENV_FILE"})
#: read by the runtime packages but superseded by the stack's ``dataCollection`` (rendered in SENTRY_DATA_COLLECTION)
SUPERSEDED = frozenset({"SENTRY_SEND_DEFAULT_PII"})
#: browser libraries a framework value may name by mistake (their Sentry platforms are javascript-<name>)
BROWSER_LIBRARIES = frozenset({"javascript", "react", "vue", "angular", "svelte", "solid", "preact", "ember", "astro",
                               "remix", "gatsby"})
FRAMEWORK_RULE = ("What the service is: the names its Sentry variables get (the browser's public copies) and their SDK"
                  " shape; default: from its Sentry platform (python-django: django, javascript-nextjs: nextjs, ...)")


def framework_hint(value: str) -> str:
    """What to write instead of a framework the toolkit has no name for (``express``: node; ``rails``: other)."""
    word = value.strip().lower()
    if word in BROWSER_LIBRARIES:
        return (f"{value} in the browser: 'vite' when its build is served as static files, else the framework of the"
                " server that renders it (sveltekit, nextjs, nuxt); ")
    for name, entry in contract.contract()["frameworks"].items():
        for platform in entry["platforms"]:
            if word in (platform, platform.split("-", 1)[-1]):
                return f"a {platform} service is '{name}'; "
    return ("a service in a language or framework without a runtime package here (Go, Ruby, Java, PHP, .NET...) is"
            " 'other', with its sentry.platform (go, ruby-rails, java-spring-boot...); a Node server is 'node', a"
            " browser build served as static files 'vite'; ")


def resolve(framework: str | None, platform: str | None) -> tuple[str, bool]:
    """(the service's framework, whether it was guessed for a browser platform that names none)."""
    if framework is not None:
        return framework, False
    if platform is None:
        return "other", False
    implied = contract.framework_of(platform)
    if implied is not None:
        return implied, False
    if platform.startswith("javascript"):
        return LEGACY_BROWSER, True
    return "other", False


def guessed_warning(namespace: str, service: str, platform: str) -> str:
    prefix = contract.public_prefix(LEGACY_BROWSER)
    choices = ", ".join(f for f in FRAMEWORKS if contract.public_prefix(f)) + " or node"
    return (f"{namespace}:services.{service}: Sentry platform {platform} does not say which framework reads the "
            f"environment, so the browser gets SvelteKit's {prefix}SENTRY_* names; set "
            f"{namespace}:services.{service}.framework ({choices})")  # fmt: skip


def sdk(framework: str, platform: str | None) -> str:
    """``python``, ``javascript`` or ``foreign`` (infra/contract.py, ``sdk_of``): what reads the rendered values."""
    return contract.sdk_of(framework, platform or "")


def owned_names(framework: str, platform: str | None) -> frozenset[str]:
    """The variables the toolkit renders into such a service, which its own ``environment`` may not set (and, where a
    runtime package reads it, the switch that ``dataCollection`` supersedes); a foreign SDK's service may set the
    rest, which its own code reads."""
    prefix = contract.public_prefix(framework)
    public = {f"{prefix}{name}" for name in contract.public_names()} if prefix else set()
    service_sdk = sdk(framework, platform)
    server = set(contract.server_names(service_sdk)) | (SUPERSEDED & set(contract.read_names(service_sdk)))
    return frozenset((server - OVERRIDABLE) | public)


def framework_issues(name: str, framework: str | None, platform: str | None, environment: dict[str, object],
                     dsn_reload: str) -> list[Issue]:  # fmt: skip
    """The rules between a service's framework, its platform, its environment and its DSN reload."""
    issues: list[Issue] = []
    if framework is not None and platform is not None:
        wants, has = contract.contract()["frameworks"][framework]["sdk"], contract.platform_sdk(platform)
        if wants is not None and has is not None and wants != has:
            issues.append(Issue((name, "framework"), framework, f"{framework} runs the {wants.title()} SDK but the"
                                f" service reports as platform {platform} ({has}); set a {has} framework, or other"))
    if platform is None:
        return issues
    resolved, _ = resolve(framework, platform)
    prefix = contract.public_prefix(resolved)
    if prefix:
        public = {f"{prefix}{n}" for n in contract.public_names()}
        for var in sorted(v for v in environment if v.startswith(f"{prefix}SENTRY_") and v not in public):
            issues.append(Issue((name, "environment", var), "[hidden]", f"{prefix}SENTRY_* names are the browser's"
                                " copies the toolkit renders, and only its public list ("
                                + ", ".join(contract.rendered_public_names())
                                + f"); a {prefix} variable reaches every visitor, so a token or secret never gets"
                                " one: remove it, or give it a name the browser does not read"))
    service_sdk = sdk(resolved, platform)
    if dsn_reload == "file" and service_sdk == "javascript":
        issues.append(Issue((name, "dsnReload"), dsn_reload, "the JavaScript runtime reads its environment once at"
                            " start (its browser copies at each page load), so a new DSN needs a restart: use"
                            " dsnReload: restart"))
    if dsn_reload == "file" and (language := contract.foreign_language(service_sdk, platform)):
        issues.append(Issue((name, "dsnReload"), dsn_reload, f"platform {platform} runs the {language} SDK, which no"
                            " runtime package serves here: nothing re-reads the mounted env file"
                            " (SENTRY_STACKS_ENV_FILE), so after a DSN rotation the service would keep sending with"
                            " the old key until it restarts; use dsnReload: restart (the default: a new DSN replaces"
                            " the container)"))
    return issues


__all__ = ["FRAMEWORKS", "FRAMEWORK_RULE", "LEGACY_BROWSER", "framework_hint", "framework_issues", "guessed_warning",
           "owned_names", "resolve", "sdk"]  # fmt: skip
