"""demo/backend/demoapp/dsn_reload.py reads exactly what infra/render.py writes (loaded by path: stdlib only)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from infra.render import dotenv_quote, parse_dotenv

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("demo_dsn_reload", ROOT / "demo/backend/demoapp/dsn_reload.py")
assert _spec and _spec.loader
dr = importlib.util.module_from_spec(_spec)
sys.modules["demo_dsn_reload"] = dr
_spec.loader.exec_module(dr)

VALUES = {
    "SENTRY_DSN": "http://0123456789abcdef0123456789abcdef@127.0.0.1:9000/2",
    "QUOTE": "it's \"quoted\"",
    "BACKSLASH": "a\\b\\\\c",
    "DOLLAR": "${not} $expanded",
    "LINES": "one\ntwo\r\tthree",
    "EMPTY": "",
    "UNICODE": "ünïcödé ✓",
}


def test_parse_env_reads_what_the_toolkit_renders() -> None:
    text = "# header\n\n" + "".join(f"{k}={dotenv_quote(v)}\n" for k, v in VALUES.items())
    assert dr.parse_env(text) == VALUES == parse_dotenv(text)


@pytest.mark.parametrize("line", ["SENTRY_DSN=unquoted", "SENTRY_DSN='open", "1BAD='x'", "no equals sign"])
def test_parse_env_rejects_what_the_toolkit_never_writes(line: str) -> None:
    with pytest.raises(dr.EnvFileError) as err:
        dr.parse_env(line + "\n")
    assert "line 1" in str(err.value) and "unquoted" not in str(err.value).replace("not quoted", "")


def test_effective_env_takes_only_sentry_values_from_the_file(tmp_path: Path) -> None:
    path = tmp_path / "backend.env"
    path.write_text("SENTRY_DSN='file-dsn'\nPORT='9999'\n")
    env = dr.effective_env({"SENTRY_STACKS_ENV_FILE": str(path), "SENTRY_DSN": "env-dsn", "PORT": "8000"})
    assert env["SENTRY_DSN"] == "file-dsn" and env["PORT"] == "8000"
    assert dr.effective_env({"SENTRY_DSN": "env-dsn"}) == {"SENTRY_DSN": "env-dsn"}


def test_a_missing_env_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(dr.EnvFileError, match=r"SENTRY_STACKS_ENV_FILE=.*/gone.env cannot be read"):
        dr.effective_env({"SENTRY_STACKS_ENV_FILE": str(tmp_path / "gone.env")})
