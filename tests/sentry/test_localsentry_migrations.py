"""Numbered migrations upgrade a localsentry database in place.

A database made by the last release without migrations (`tests/data/localsentry/release-f148438.sql`, a dump of
what that release wrote: two organizations, projects, keys, filters, settings, a detector and workflow, a cron
monitor with a check-in, a release with a deploy, sentry-python events) is opened by a real localsentry process of
this release, which serves everything it held through Sentry's APIs, takes events on its old DSNs, and records
each migration once. The runner itself: a failing migration changes nothing, a later release's database is
refused, a second open applies nothing.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from localsentry import migrations
from localsentry.db import Database
from tests.support.localsentry import ROOT, LocalSentry

pytestmark = pytest.mark.sentry
PREVIOUS = ROOT / "tests" / "data" / "localsentry" / "release-f148438.sql"


def previous_release_db(folder: Path) -> Path:
    """A database file exactly as the previous release left it."""
    path = folder / "old.sqlite3"
    conn = sqlite3.connect(path)
    conn.executescript(PREVIOUS.read_text())
    conn.close()
    return path


def applied(path: Path) -> list[tuple[int, str]]:
    conn = sqlite3.connect(path)
    try:
        return [(int(v), str(n)) for v, n in conn.execute("SELECT version, name FROM schema_migrations ORDER BY 1")]
    finally:
        conn.close()


def test_the_fixture_is_the_previous_release_shape(tmp_path: Path) -> None:
    path = previous_release_db(tmp_path)
    conn = sqlite3.connect(path)
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 0
    assert "schema_migrations" not in tables and {"orgs", "projects", "keys", "items", "monitors"} <= tables
    conn.close()


def test_every_migration_is_numbered_and_recorded(tmp_path: Path) -> None:
    steps = migrations.available()
    assert [s.version for s in steps] == list(range(1, len(steps) + 1))
    db = Database(str(tmp_path / "new.sqlite3"))
    db.close()
    assert applied(tmp_path / "new.sqlite3") == [(s.version, s.name) for s in steps]
    assert Database(str(tmp_path / "new.sqlite3")).conn.execute("PRAGMA user_version").fetchone()[0] == len(steps)


def test_a_previous_release_database_opens_serves_and_takes_events(tmp_path: Path) -> None:
    path = previous_release_db(tmp_path)
    ls = LocalSentry.start(tmp_path, db=path, rate_limit=0)
    try:
        _served(ls)
        assert [v for v, _ in applied(path)] == [s.version for s in migrations.available()]
        ls.restart()  # a second start applies nothing and loses nothing
        assert [v for v, _ in applied(path)] == [s.version for s in migrations.available()]
        assert ls.api("GET", f"/api/0/projects/{ls.org}/api/keys/").status_code == 200
    finally:
        ls.stop()


def _served(ls: LocalSentry) -> None:
    org = ls.org
    assert ls.org == "localsentry"
    assert sorted(o["slug"] for o in ls.get_json("/api/0/organizations/")) == ["acme", "localsentry"]
    assert sorted(p["slug"] for p in ls.get_json(f"/api/0/organizations/{org}/projects/")) == ["api", "web-shop"]
    keys = {k["name"]: k for k in ls.get_json(f"/api/0/projects/{org}/api/keys/")}
    assert {"Backend", "Retired"} <= set(keys) and keys["Retired"]["isActive"] is False
    assert keys["Backend"]["public"] == "608440c4c7ac0b72c08ad231d3beda18"
    filters = {f["id"]: f["active"] for f in ls.get_json(f"/api/0/projects/{org}/api/filters/")}
    assert filters["localhost"] is True
    assert ls.get_json(f"/api/0/projects/{org}/web-shop/filters/")[2]["active"] == ["ie", "safari"]
    project = ls.get_json(f"/api/0/projects/{org}/api/")
    assert (project["scrubIPAddresses"], project["sensitiveFields"], project["resolveAge"]) == (True, ["card"], 24)
    events = ls.get_json(f"/api/0/projects/{org}/api/events/")
    assert sorted(e["title"] for e in events) == ["KeyError: 'missing'", "KeyError: 'missing'", "payment retried"]
    issues = ls.get_json(f"/api/0/projects/{org}/api/issues/")
    assert sorted((i["title"], i["count"], i["userCount"]) for i in issues) == [
        ("KeyError: 'missing'", "2", 1), ("payment retried", "1", 1)]  # fmt: skip
    monitor = ls.get_json(f"/api/0/organizations/{org}/monitors/nightly-report/")
    assert monitor["config"]["schedule"] == "0 3 * * *"
    [cron] = ls.get_json(f"/api/0/organizations/{org}/detectors/", query="type:monitor_check_in_failure")
    assert (cron["name"], cron["dataSources"][0]["queryObj"]["id"]) == ("Nightly report", monitor["id"])  # 0003
    checkins = ls.get_json(f"/api/0/organizations/{org}/monitors/nightly-report/checkins/")
    # the stored check-in (a "missed" one may be added by the clock: the schedule is 03:00 daily)
    assert [(c["status"], c["duration"]) for c in checkins if c["status"] != "missed"] == [("ok", 2500)]
    release = ls.get_json(f"/api/0/organizations/{org}/releases/api@1.0.0/")
    assert release["deployCount"] == 1 and release["lastDeploy"]["environment"] == "production"
    workflows = ls.get_json(f"/api/0/organizations/{org}/workflows/", query="Page")
    detectors = {d["id"]: d for d in ls.get_json(f"/api/0/organizations/{org}/detectors/")}
    assert [w["name"] for w in workflows] == ["Page the team"]
    assert detectors[workflows[0]["detectorIds"][0]]["name"] == "Too many errors"
    spans = ls.get_json(f"/api/0/organizations/{org}/events/", dataset="spans", field=["span.name", "transaction"])
    assert {"GET /orders", "SELECT orders"} <= {r["span.name"] for r in spans["data"]}
    # 0005: the old projects take source maps (no bundle yet) and the old release takes release files
    assert ls.get_json(f"/api/0/projects/{org}/web-shop/files/artifact-bundles/") == []
    assert ls.get_json(f"/api/0/organizations/{org}/releases/api@1.0.0/files/") == []
    assert ls.get_json(f"/api/0/organizations/{org}/chunk-upload/")["chunkSize"] == 8 << 20
    _ingest(ls, keys["Backend"]["dsn"]["public"], keys["Retired"]["dsn"]["public"])


def _ingest(ls: LocalSentry, dsn: str, disabled_dsn: str) -> None:
    """The old DSNs still work as they did: the active key takes an event, the disabled one is refused."""
    public = dsn.split("//")[1].split("@")[0]
    event_id = uuid.uuid4().hex
    auth = f"Sentry sentry_key={public}, sentry_version=7, sentry_client=test/1"
    body = {"event_id": event_id, "message": "after the upgrade", "level": "error", "environment": "production"}
    resp = requests.post(f"{ls.url}/api/{dsn.rsplit('/', 1)[1]}/store/", json=body, headers={"X-Sentry-Auth": auth},
                         timeout=10)  # fmt: skip
    assert resp.status_code == 200, resp.text
    found = ls.get_json(f"/api/0/projects/{ls.org}/api/events/{event_id}/")
    assert found["message"] == "after the upgrade"
    retired = disabled_dsn.split("//")[1].split("@")[0]
    refused = requests.post(f"{ls.url}/api/{dsn.rsplit('/', 1)[1]}/store/", json=body, timeout=10,
                            headers={"X-Sentry-Auth": f"Sentry sentry_key={retired}, sentry_version=7"})  # fmt: skip
    assert refused.status_code == 403


@dataclass(frozen=True)
class Broken(migrations.Migration):
    def run(self, conn: sqlite3.Connection) -> None:
        conn.execute("CREATE TABLE half_done (x INTEGER)")
        raise RuntimeError("this migration fails half way")


def test_a_failing_migration_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    Database(str(path)).close()
    conn = sqlite3.connect(path, isolation_level=None)
    before = migrations.version(conn)
    steps = [*migrations.available(), Broken(before + 1, "broken", "py")]
    with pytest.raises(RuntimeError, match="half way"):
        migrations.migrate(conn, steps)
    assert migrations.version(conn) == before
    assert conn.execute("SELECT name FROM sqlite_master WHERE name = 'half_done'").fetchone() is None
    assert not conn.in_transaction
    conn.close()


def test_a_database_of_a_later_release_is_refused_before_anything_changes(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    Database(str(path)).close()
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 999")
    conn.commit()
    conn.close()
    with pytest.raises(migrations.MigrationError, match="schema version 999, newer than this localsentry knows"):
        Database(str(path))
    started = subprocess.run([sys.executable, "-m", "localsentry", "--db", str(path), "--port", "0"], cwd=ROOT,
                             capture_output=True, text=True, timeout=60, check=False)  # fmt: skip
    assert started.returncode == 1 and started.stdout == ""
    assert started.stderr.startswith("localsentry: this database has schema version 999"), started.stderr
    assert "Traceback" not in started.stderr


def test_sql_scripts_split_into_statements() -> None:
    script = "-- a comment\nCREATE TABLE a (x TEXT DEFAULT ';');\n\nCREATE TRIGGER t AFTER INSERT ON a BEGIN\n" \
             "  UPDATE a SET x = 'y';\nEND;\n"  # fmt: skip
    assert migrations.statements(script) == [
        "CREATE TABLE a (x TEXT DEFAULT ';');",
        "CREATE TRIGGER t AFTER INSERT ON a BEGIN\n  UPDATE a SET x = 'y';\nEND;",
    ]
    with pytest.raises(migrations.MigrationError, match="incomplete"):
        migrations.statements("CREATE TABLE b (x")
