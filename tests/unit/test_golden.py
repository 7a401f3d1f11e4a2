"""Golden files: every rendered file of the dev and prod stacks, byte for byte (fixed DSNs and release).

After an intended change of the templates or the stack files, regenerate with
`UPDATE_GOLDEN=1 venv/bin/python -m pytest tests/unit/test_golden.py` and review the diff.
"""

from __future__ import annotations

import os

import pytest

from infra.program import file_names
from infra.render import render_all
from infra.sampling import derive_rates
from tests.unit.settings_support import DSNS, ROOT, settings_for

GOLDEN = ROOT / "tests" / "golden"
STACKS = ("dev", "prod")


def rendered(stack: str) -> dict[str, str]:
    settings = settings_for(stack)
    return render_all(settings, DSNS, derive_rates(settings.sampling), root=ROOT).files


@pytest.mark.parametrize("stack", STACKS)
def test_golden_files(stack: str) -> None:
    files = rendered(stack)
    folder = GOLDEN / stack
    assert sorted(files) == file_names(settings_for(stack))
    if os.environ.get("UPDATE_GOLDEN") == "1":
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.iterdir():
            old.unlink()
        for name, content in files.items():
            (folder / name).write_text(content, encoding="utf-8", newline="")
    on_disk = {p.name: p.read_text(encoding="utf-8") for p in sorted(folder.iterdir())}
    assert sorted(on_disk) == sorted(files), "golden files missing or extra: run with UPDATE_GOLDEN=1"
    for name, content in files.items():
        assert content == on_disk[name], f"{stack}/{name} differs from tests/golden (UPDATE_GOLDEN=1 to accept)"


def test_stacks_differ_where_environments_differ() -> None:
    dev, prod = rendered("dev"), rendered("prod")
    assert "SENTRY_ENVIRONMENT='development'" in dev["backend.env"]
    assert "SENTRY_ENVIRONMENT='production'" in prod["backend.env"]
    assert '"userInfo":true' in dev["frontend.env"] and '"user_info":true' in dev["backend.env"]
    assert '"userInfo":false' in prod["frontend.env"] and '"user_info":false' in prod["backend.env"]
    assert "# Privacy" in dev["backend.env"] and "SEND_DEFAULT_PII" not in dev["backend.env"] + prod["frontend.env"]
    assert "PORT='8000'" in dev["backend.env"] and "PORT='8100'" in prod["backend.env"]
    assert dev["redis.env"] != prod["redis.env"]


def test_golden_folder_holds_only_known_stacks() -> None:
    assert sorted(p.name for p in GOLDEN.iterdir() if p.is_dir()) == sorted(STACKS)


def test_golden_files_hold_only_the_fake_dsns() -> None:
    from infra.render import parse_dotenv

    for path in GOLDEN.rglob("*.env"):
        dsn = parse_dotenv(path.read_text(encoding="utf-8")).get("SENTRY_DSN")
        assert dsn is None or dsn in DSNS.values(), path
