"""The preflight against a real localsentry: a missing team is named in the project's own settings namespace (a
project of yours reads `<name>:team`, not this repository's `sentry-stacks:team`)."""

from __future__ import annotations

import pytest

from infra.connection import ConnectionValues
from infra.sentry.client import Connection
from infra.sentry.preflight import Needs, SentryPreflightError, check_connection
from tests.support.localsentry import LocalSentry


def values(ls: LocalSentry) -> ConnectionValues:
    return ConnectionValues(ls.url, ls.org, ls.token, "sentry:baseUrl", "sentry:organization", "sentry:token")


@pytest.mark.parametrize("namespace", ["notes", "sentry-stacks"])
def test_a_missing_team_names_the_projects_key(localsentry: LocalSentry, namespace: str) -> None:
    connection = Connection(localsentry.url + "/api/0/", localsentry.org, localsentry.token)
    with pytest.raises(SentryPreflightError) as caught:
        check_connection(connection, values(localsentry), Needs(team="no-such-team", namespace=namespace))
    assert str(caught.value).startswith(f"{namespace}:team = no-such-team: organization '{localsentry.org}' has no "
                                        "such team")
    assert f"set {namespace}:team to the slug" in str(caught.value)
    org = check_connection(connection, values(localsentry), Needs(team=localsentry.team, namespace=namespace))
    assert org["slug"] == localsentry.org
