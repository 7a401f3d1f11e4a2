"""Stack files: a stack's creation adds one salt line to the user's file and changes nothing else."""

from __future__ import annotations

import yaml

from infra.workspace import ROOT, with_salt_line, without_stack_local_keys

SALT = "encryptionsalt: v1:c2FsdA==:v1:bm9uY2U=:Y2lwaGVy"


def test_salt_line_goes_before_the_first_key_and_keeps_comments_and_values() -> None:
    text = "# the dev stack\n# PII allowed\nconfig:\n  sentry-stacks:sendDefaultPii: true\n  x: 1.0\n"
    out = with_salt_line(text, SALT)
    body = "config:\n  sentry-stacks:sendDefaultPii: true\n  x: 1.0\n"
    assert out == "# the dev stack\n# PII allowed\n" + SALT + "\n" + body
    assert yaml.safe_load(out)["config"] == {"sentry-stacks:sendDefaultPii": True, "x": 1.0}


def test_salt_line_in_a_file_of_comments_only_or_without_final_newline() -> None:
    assert with_salt_line("# nothing yet", SALT) == "# nothing yet\n" + SALT + "\n"
    assert with_salt_line("", SALT) == SALT + "\n"


def test_stack_local_keys_are_dropped_and_nothing_else() -> None:
    for stack in ("dev", "prod"):
        text = (ROOT / f"Pulumi.{stack}.yaml").read_text(encoding="utf-8")
        salted = with_salt_line(without_stack_local_keys(text), SALT)
        assert without_stack_local_keys(salted) == without_stack_local_keys(text)
        assert "encryptionsalt" not in without_stack_local_keys(salted)
    other = "secretsprovider: awskms://k\nencryptedkey: abc\nconfig:\n  a:encryptionsalt: kept\n"
    assert without_stack_local_keys(other) == "config:\n  a:encryptionsalt: kept\n"
