"""The reference backend's live DSN (demo/backend/demoapp/dsn_reload.py) with the real sentry-sdk and localsentry.

An app process keeps sending events while its rendered env file is replaced (atomically, as RenderedFile does)
with a new key's DSN: the SDK is re-initialised in place, every event is stored, the ones before the switch by
the old key and the ones after by the new key. A broken file keeps the running client.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from infra.files import write_atomic
from infra.render import dotenv_quote
from tests.support.localsentry import ROOT, LocalSentry

pytestmark = pytest.mark.sentry

# The app: demoapp.sentry_config as the container runs it, minus the Django/Celery/Redis integrations (not
# installed on the host); it sends a message every 20 ms and records which DSN key the SDK used for each.
APP = r"""
import json, sys, time
sys.path.insert(0, sys.argv[1])
import sentry_sdk
from demoapp import sentry_config as sc

sc._start_sdk = lambda config: sentry_sdk.init(**config.sdk_options())
sc.init_sentry(__import__("os").environ)
sent = []
deadline = time.monotonic() + float(sys.argv[2])
i = 0
while time.monotonic() < deadline:
    i += 1
    event_id = sentry_sdk.capture_message(f"live-dsn {i}")
    sent.append([event_id, sentry_sdk.get_client().dsn.split("@")[0].rsplit("/", 1)[-1]])
    time.sleep(0.02)
sentry_sdk.flush(timeout=10)
print(json.dumps(sent))
"""


def env_file(dsn: str, rate: str = "1.0") -> str:
    values = {"SENTRY_DSN": dsn, "SENTRY_ENVIRONMENT": "development", "SENTRY_SAMPLE_RATE": rate}
    return "# rendered\n" + "".join(f"{k}={dotenv_quote(v)}\n" for k, v in sorted(values.items()))


def start_app(path: Path, seconds: float) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SENTRY_")}
    env.update(SENTRY_STACKS_ENV_FILE=str(path), SENTRY_STACKS_RELOAD_INTERVAL="0.2", SENTRY_ENVIRONMENT="ignored")
    return subprocess.Popen(
        [sys.executable, "-c", APP, str(ROOT / "demo" / "backend"), str(seconds)], env=env, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def public_key(dsn: str) -> str:
    return dsn.split("://", 1)[1].split("@", 1)[0].split(":")[0]


def stored(ls: LocalSentry, project: str, count: int) -> dict[str, str]:
    items = ls.wait_items(project, count, timeout=30, type="event", limit=10000)
    return {str(i["payload"]["event_id"]).replace("-", ""): str(i["key"]) for i in items}


def test_new_dsn_in_the_env_file_switches_the_sdk_without_losing_events(
    localsentry_session: LocalSentry, tmp_path: Path
) -> None:
    ls = localsentry_session
    project = ls.create_project(platform="python")["slug"]
    old = ls.dsn(project)
    new_key = ls.api("POST", f"/api/0/projects/{ls.org}/{project}/keys/", json={"name": "g2"}).json()
    new = str(new_key["dsn"]["public"])
    path = tmp_path / "deploy" / "backend.env"
    write_atomic(str(path), env_file(old))

    app = start_app(path, seconds=5.0)
    time.sleep(2.0)
    write_atomic(str(path), env_file(new))  # what `pulumi up` does on `rotate-dsn start`
    out, err = app.communicate(timeout=60)
    assert app.returncode == 0, err
    sent = json.loads(out.strip().splitlines()[-1])
    used = [key for _, key in sent]
    assert public_key(old) in used and public_key(new) in used, used
    switch = used.index(public_key(new))
    assert set(used[switch:]) == {public_key(new)}, "after the switch every event uses the new key"

    found = stored(ls, project, len(sent))
    lost = [event_id for event_id, _ in sent if event_id not in found]
    assert lost == [], f"{len(lost)} of {len(sent)} events lost"
    keys = {str(k["id"]): k for k in ls.keys(project)}
    by_public = {str(k["public"]): kid for kid, k in keys.items()}
    for event_id, key in sent:
        assert found[event_id] in (key, by_public.get(key)), "each event is stored under the key that sent it"


def test_a_broken_env_file_keeps_the_running_client(localsentry_session: LocalSentry, tmp_path: Path) -> None:
    ls = localsentry_session
    project = ls.create_project(platform="python")["slug"]
    dsn = ls.dsn(project)
    path = tmp_path / "backend.env"
    write_atomic(str(path), env_file(dsn))
    app = start_app(path, seconds=3.0)
    time.sleep(1.0)
    write_atomic(str(path), "SENTRY_DSN=unquoted\n")
    out, err = app.communicate(timeout=60)
    assert app.returncode == 0, err
    sent = json.loads(out.strip().splitlines()[-1])
    assert {key for _, key in sent} == {public_key(dsn)}
    found = stored(ls, project, len(sent))
    assert [e for e, _ in sent if e not in found] == []
