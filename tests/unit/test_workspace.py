"""Stack files: a stack's creation adds one salt line to the user's file and changes nothing else; the config
rotate-dsn records is written as text, the user's lines and comments as written."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from infra.workspace import (
    CLI_GC,
    ROOT,
    PulumiCommandError,
    pulumi_env,
    run_pulumi,
    with_config_values,
    with_salt_line,
    without_stack_local_keys,
    write_config_values,
)

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


ROTATION_STATE = {
    "sentry-stacks:keys": {"backend": {"current": "g2", "generations": {"g1": {"active": True}, "g2": {}}}},
    "sentry-stacks:rotation": {"backend": {"from": "g1", "to": "g2", "phase": "started", "tags": ["a", "b: c"]}},
}


def test_config_values_are_added_and_replaced_as_text_keeping_every_other_line() -> None:
    user = (ROOT / "Pulumi.dev.yaml").read_text(encoding="utf-8")
    added = with_config_values(SALT + "\n" + user, ROTATION_STATE)
    # the user's lines up to the keys entry (which rotate-dsn owns) are untouched, and so is every later line
    before, _, after = user.partition("  sentry-stacks:keys:\n")
    assert added.startswith(SALT + "\n" + before + "  sentry-stacks:keys:\n")
    rest = [line for line in after.splitlines() if not line.startswith("    ")]
    assert all(line in added.splitlines() for line in rest), rest
    assert yaml.safe_load(added)["config"] == {**yaml.safe_load(user)["config"], **ROTATION_STATE}

    finished = {"sentry-stacks:keys": {"backend": {"current": "g2", "generations": {"g2": {}}}},
                "sentry-stacks:rotation": {}}
    replaced = with_config_values(added, finished)
    assert replaced == SALT + "\n" + with_config_values(user, finished)  # replacing == writing afresh
    assert yaml.safe_load(replaced)["config"] == {**yaml.safe_load(user)["config"], **finished}


def test_an_entry_in_the_middle_is_replaced_in_place_with_its_neighbours_and_comments() -> None:
    text = ("config:\n  # keys: written by rotate-dsn\n  sentry-stacks:keys:\n    backend:\n      current: g1\n\n"
            "  # the next one is the user's\n  sentry-stacks:release: \"1.0\"\n  x: true\nencryptionsalt: s\n")
    out = with_config_values(text, {"sentry-stacks:keys": {"backend": {"current": "g2"}}, "new:key": "yes"})
    assert out == ("config:\n  # keys: written by rotate-dsn\n  sentry-stacks:keys:\n    backend:\n"
                   "      current: \"g2\"\n\n  # the next one is the user's\n  sentry-stacks:release: \"1.0\"\n"
                   "  x: true\n  new:key: \"yes\"\nencryptionsalt: s\n")
    assert yaml.safe_load(out) == {"config": {"sentry-stacks:keys": {"backend": {"current": "g2"}},
                                              "sentry-stacks:release": "1.0", "x": True, "new:key": "yes"},
                                   "encryptionsalt": "s"}


def test_a_file_without_config_gets_one_and_odd_values_round_trip(tmp_path: Path) -> None:
    odd = {"k:v": {"true": [1, 2.5, None, False, {"a b": "it's \"quoted\"\n"}], "empty": {}, "list": []}}
    out = with_config_values("# only a comment\n", odd)
    assert out.startswith("# only a comment\nconfig:\n")
    assert yaml.safe_load(out)["config"] == odd
    stack_file = tmp_path / "Pulumi.dev.yaml"
    stack_file.write_text("config:\n  a: 1.0\n", encoding="utf-8")
    stack_file.chmod(0o600)
    write_config_values(stack_file, odd)
    assert stack_file.read_text(encoding="utf-8").startswith("config:\n  a: 1.0\n")
    assert stack_file.stat().st_mode & 0o777 == 0o600
    assert yaml.safe_load(stack_file.read_text(encoding="utf-8"))["config"] == {"a": 1.0, **odd}


def test_a_layout_the_text_edit_cannot_follow_is_refused_and_the_file_left_alone(tmp_path: Path) -> None:
    stack_file = tmp_path / "Pulumi.dev.yaml"
    flow = "config: {a: 1}\n"  # flow-style config: no block to edit
    stack_file.write_text(flow, encoding="utf-8")
    with pytest.raises(RuntimeError, match=r"cannot edit Pulumi\.dev\.yaml as text"):
        write_config_values(stack_file, {"sentry-stacks:rotation": {}})
    assert stack_file.read_text(encoding="utf-8") == flow


def test_a_failed_pulumi_command_says_which_and_what_it_printed(tmp_path: Path) -> None:
    """CI showed `CalledProcessError: ... returned non-zero exit status 1` for `pulumi stack init` and nothing else."""
    said = "import sys; sys.stderr.write('error: stack \\'dev\\' already exists\\n  (see above)\\n'); sys.exit(1)"
    with pytest.raises(PulumiCommandError) as failure:
        run_pulumi([sys.executable, "-c", said], tmp_path, dict(os.environ))
    assert isinstance(failure.value, subprocess.CalledProcessError) and failure.value.returncode == 1
    assert str(failure.value) == f"`pulumi -c {said}` exited 1: error: stack 'dev' already exists (see above)"
    assert run_pulumi([sys.executable, "-c", "print('ok')"], tmp_path, dict(os.environ)).stdout == "ok\n"


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_committed_stack_files_hold_no_backend_keys(stack: str) -> None:
    """`make demo` adds its backend's salt to the working copy of Pulumi.dev.yaml; committed (a merge did), every
    fresh clone's `make demo` failed: `pulumi stack init dev` -> "incorrect passphrase". The index must not have it
    (the working copy may: it is this checkout's)."""
    name = f"Pulumi.{stack}.yaml"
    if (ROOT / ".git").exists():
        text = subprocess.run(["git", "show", f":{name}"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    else:  # an unpacked release: the file is what was shipped
        text = (ROOT / name).read_text(encoding="utf-8")
    assert without_stack_local_keys(text) == text, f"{name} is committed with its encryptionsalt/secretsprovider"


def test_the_cli_garbage_collector_settings_are_the_same_everywhere_the_toolkit_runs_pulumi(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """scripts/env.sh, the Makefile and the toolkit's commands (pulumi_env) give the CLI the same GOGC and GOMEMLIMIT,
    and a value the environment already has wins."""
    root = Path(__file__).resolve().parents[2]
    clean = {k: v for k, v in os.environ.items() if k not in CLI_GC}
    for key in CLI_GC:
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("PULUMI_CONFIG_PASSPHRASE", "unused")  # no passphrase file is made
    assert {k: pulumi_env()[k] for k in CLI_GC} == CLI_GC
    shell = subprocess.run(["bash", "-c", f"source {root / 'scripts' / 'env.sh'} && echo $GOGC $GOMEMLIMIT"],
                           env=clean, capture_output=True, text=True, check=True)  # fmt: skip
    make = subprocess.run(["make", "-s", "--no-print-directory", "-f", str(root / "Makefile"), "-f", "-", "print-gc"],
                          input="print-gc:\n\t@echo $(GOGC) $(GOMEMLIMIT)\n", env=clean, cwd=root, capture_output=True,
                          text=True, check=True)  # fmt: skip
    expected = f"{CLI_GC['GOGC']} {CLI_GC['GOMEMLIMIT']}"
    assert shell.stdout.strip() == expected and make.stdout.strip() == expected
    monkeypatch.setenv("GOGC", "150")
    assert pulumi_env()["GOGC"] == "150"
