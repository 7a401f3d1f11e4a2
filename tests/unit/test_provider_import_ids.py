"""Import ids of the sentrystacks types, without Sentry: every type has a format or a reason it has nothing to import,
and an id that does not fit says what would."""

from __future__ import annotations

import pytest

from infra.provider.imports import FORMATS, NOT_IMPORTABLE, parse_import_id, provider_choices
from infra.provider.kinds import KINDS
from infra.sentry.errors import SentryConfigError
from infra.sentry.project_model import ProjectInputs


def test_every_type_has_an_import_id_or_a_reason() -> None:
    assert set(FORMATS) | set(NOT_IMPORTABLE) == set(KINDS) and not set(FORMATS) & set(NOT_IMPORTABLE)


@pytest.mark.parametrize(("kind", "text", "parts"), [
    ("Project", "acme/backend", ["backend"]),
    ("ClientKey", "acme/backend/abc123", ["backend", "abc123"]),
    ("Alert", "acme/42", ["42"]),
    ("Release", "acme/backend@1.2/3", ["backend@1.2", "3"]),  # a version may hold '/'
    ("Deploy", "acme/v1/with/slash/7", ["v1", "with", "slash", "7"]),
])
def test_ids_that_fit(kind: str, text: str, parts: list[str]) -> None:
    assert parse_import_id(kind, text, "acme") == parts


@pytest.mark.parametrize(("kind", "text", "line"), [
    ("Project", "acme", "import id 'acme' does not fit Project: expected org/project-slug"),
    ("Project", "acme/a/b", "import id 'acme/a/b' does not fit Project: expected org/project-slug"),
    ("InboundFilter", "acme//x", "import id 'acme//x' does not fit InboundFilter: expected org/project-slug/filter-id"),
    ("MetricMonitor", "acme/errors", "import id 'acme/errors' does not fit MetricMonitor: expected org/detector-id "
                                     "(a number)"),
    ("Deploy", "acme/7", "import id 'acme/7' does not fit Deploy: expected org/version/deploy-id"),
    ("Project", "other/backend", "import id 'other/backend' is in organization 'other', but this provider manages "
                                 "organization 'acme' (sentrystacks:organization or SENTRY_ORG)"),
    ("SourceMaps", "acme/x", "SourceMaps cannot be imported: its inputs name a build folder on this machine, which "
                             "Sentry does not hold; declare it: the first up's upload sends only the files Sentry "
                             "lacks"),
])
def test_ids_that_do_not_fit_say_what_would(kind: str, text: str, line: str) -> None:
    with pytest.raises(SentryConfigError) as info:
        parse_import_id(kind, text, "acme")
    assert str(info.value) == line


def test_provider_choices_are_what_sentry_never_holds() -> None:
    choices = provider_choices(ProjectInputs)
    assert {"shared", "adopt", "stack", "defaultKey", "defaultRules", "deleteOnDestroy"} <= set(choices)
    assert not {"slug", "teams", "name", "platform", "resolveAge"} & set(choices)
    assert choices["shared"] is False and choices["stack"] == ""
