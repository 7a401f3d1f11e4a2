"""Provider errors reach the CLI as one line (infra/provider_errors.py): the dynamic-provider host sends
`traceback.format_exc()` to the CLI, which printed a Python traceback (twice) for every failed step."""

from __future__ import annotations

import traceback
from pathlib import Path

import pytest
import requests

from infra import provider_errors
from infra.sentry.client import json_of
from infra.sentry.errors import SentryAuthError, SentryError, SentryProtocolError


def _host_text(exc: BaseException) -> str:
    """What pulumi/dynamic/__main__.py's `_abort_with_traceback` sends for `exc`."""
    try:
        raise exc
    except Exception:
        return traceback.format_exc()


def test_expected_errors_are_their_message_and_bugs_one_line_with_a_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(traceback, "format_exc", traceback.format_exc)  # undone after the test
    before = _host_text(SentryAuthError("create", "project 'x'", 403, {"detail": "no"}, advice="Fix the token"))
    assert before.startswith("Traceback (most recent call last)")
    provider_errors.install((SentryError,))  # not in the provider host: nothing changes
    assert _host_text(KeyError("id")).startswith("Traceback (most recent call last)")
    provider_errors.install((SentryError,), anywhere=True)
    text = _host_text(SentryAuthError("create", "project 'x'", 403, {"detail": "no"}, advice="Fix the token"))
    assert text == "create project 'x': HTTP 403 Forbidden: no. Fix the token"
    bug = _host_text(KeyError("id"))
    assert "\n" not in bug and bug.startswith("KeyError: 'id' (an unexpected error inside the provider")
    log = tmp_path / ".sentry-stacks" / "provider-errors.log"
    assert str(log) in bug and "Traceback (most recent call last)" in log.read_text()
    assert "raise exc" in log.read_text()  # the whole traceback is kept there


def test_html_success_answer_is_a_protocol_error_naming_the_base_url() -> None:
    """A base URL that answers 200 with HTML (a login page): the client returned the text, which project.py then
    indexed (`TypeError: string indices must be integers`)."""
    response = requests.Response()
    response.status_code, response.url = 200, "https://example.com/api/0/projects/acme/web/"
    response._content = b"<!DOCTYPE html><html><head><title>Sign in</title></head><body></body></html>"
    with pytest.raises(SentryProtocolError, match=r"answered HTTP 200 with an HTML page, not Sentry's JSON; "
                                                  r"check sentry:baseUrl"):
        json_of(response, "read", "project 'web'")
    response._content = b'{"id": "1"}'
    assert json_of(response, "read", "project 'web'") == {"id": "1"}
