"""Sentry value sets and fixed names used across localsentry (a leaf module: it imports nothing of localsentry)."""

from __future__ import annotations

#: Sentry's release permission (`OrganizationReleasePermission`, `ProjectReleasePermission`): the scopes that may read,
#: write and delete releases, their files, artifact bundles and chunk uploads (an organization token's `org:ci` writes)
RELEASE_READ = ("org:ci", "project:admin", "project:read", "project:releases", "project:write")
RELEASE_WRITE = ("org:ci", "project:admin", "project:releases", "project:write")
RELEASE_DELETE = ("project:admin", "project:releases")
#: Modes of the legacy rules/alert-rules APIs per organization.
LEGACY_MODES = ("works", "brownout", "gone", "404")
#: Features of a new organization.
DEFAULT_FEATURES = ["incidents", "workflow-engine-ui", "performance-view", "session-replay"]
#: The team an organization-level project create puts the project in (Sentry's personal team).
PERSONAL_TEAM = "team-admin"

PLATFORMS = frozenset(
    "other python python-django python-flask python-fastapi python-celery python-starlette python-aiohttp "
    "python-tornado python-pyramid python-bottle python-falcon python-sanic python-quart python-rq "
    "python-awslambda python-gcpfunctions python-serverless python-tryton python-pylons python-chalice "
    "python-asgi python-wsgi node node-express node-koa node-connect node-nestjs node-hapi node-fastify "
    "node-awslambda node-gcpfunctions node-azurefunctions javascript javascript-react javascript-vue "
    "javascript-angular javascript-nextjs javascript-remix javascript-svelte javascript-sveltekit "
    "javascript-astro javascript-ember javascript-gatsby javascript-solid javascript-nuxt bun deno go go-gin "
    "go-echo go-fiber go-http go-net-http java java-spring java-spring-boot java-log4j2 java-logback kotlin "
    "android apple apple-ios apple-macos dotnet dotnet-aspnetcore dotnet-aspnet php php-laravel php-symfony "
    "ruby ruby-rails ruby-rack rust elixir dart flutter react-native unity unreal native electron capacitor "
    "cordova ionic minidump".split()
)
RESERVED_SLUGS = frozenset(
    "api-keys audit-log auth members projects rate-limits repos settings teams billing payments legal "
    "subscription support integrations developer-settings usage".split()
)
BROWSER_SDK_CHOICES = ["10.x", "9.x", "8.x", "7.x"]
DEFAULT_BROWSER_SDK = "9.x"
LEGACY_BROWSER_DEFAULTS = ["ie", "opera_mini", "opera", "safari", "android", "edge", "firefox", "chrome"]
PROJECT_FEATURES = [
    "alert-filters", "data-forwarding", "discard-groups", "minidump", "releases", "servicehooks",
    "similarity-indexing", "similarity-view",
]  # fmt: skip
PROJECT_NAME_MAX = 50
PROJECT_SLUG_MAX = 100
