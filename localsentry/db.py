"""SQLite storage: one connection shared by all threads behind a lock, WAL journal for file databases."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS orgs (
  id INTEGER PRIMARY KEY, slug TEXT NOT NULL UNIQUE, name TEXT NOT NULL, created TEXT NOT NULL,
  features TEXT NOT NULL DEFAULT '[]', settings TEXT NOT NULL DEFAULT '{}');
CREATE TABLE IF NOT EXISTS tokens (
  id INTEGER PRIMARY KEY, digest TEXT NOT NULL UNIQUE, kind TEXT NOT NULL, scopes TEXT NOT NULL,
  org_id INTEGER, name TEXT NOT NULL DEFAULT '', created TEXT NOT NULL, revoked INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS teams (
  id INTEGER PRIMARY KEY, org_id INTEGER NOT NULL, slug TEXT NOT NULL, name TEXT NOT NULL,
  created TEXT NOT NULL, deleted INTEGER NOT NULL DEFAULT 0);
CREATE UNIQUE INDEX IF NOT EXISTS teams_slug ON teams(org_id, slug) WHERE deleted = 0;
CREATE TABLE IF NOT EXISTS projects (
  id INTEGER PRIMARY KEY, org_id INTEGER NOT NULL, slug TEXT NOT NULL, name TEXT NOT NULL,
  platform TEXT, created TEXT NOT NULL, deleted INTEGER NOT NULL DEFAULT 0,
  data TEXT NOT NULL DEFAULT '{}', first_event TEXT);
CREATE UNIQUE INDEX IF NOT EXISTS projects_slug ON projects(org_id, slug) WHERE deleted = 0;
CREATE TABLE IF NOT EXISTS project_teams (
  project_id INTEGER NOT NULL, team_id INTEGER NOT NULL, PRIMARY KEY (project_id, team_id));
CREATE TABLE IF NOT EXISTS project_redirects (
  org_id INTEGER NOT NULL, slug TEXT NOT NULL, project_id INTEGER NOT NULL, PRIMARY KEY (org_id, slug));
CREATE TABLE IF NOT EXISTS keys (
  id INTEGER PRIMARY KEY, project_id INTEGER NOT NULL, public TEXT NOT NULL UNIQUE, secret TEXT NOT NULL,
  label TEXT NOT NULL, active INTEGER NOT NULL DEFAULT 1, rl_count INTEGER, rl_window INTEGER,
  browser_sdk TEXT NOT NULL, loader TEXT NOT NULL, created TEXT NOT NULL, use_case TEXT NOT NULL DEFAULT 'user',
  deleted INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS environments (
  id INTEGER PRIMARY KEY, project_id INTEGER NOT NULL, name TEXT NOT NULL, hidden INTEGER NOT NULL DEFAULT 0,
  UNIQUE (project_id, name));
CREATE TABLE IF NOT EXISTS workflows (
  id INTEGER PRIMARY KEY, org_id INTEGER NOT NULL, data TEXT NOT NULL, created TEXT NOT NULL,
  updated TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS detectors (
  id INTEGER PRIMARY KEY, org_id INTEGER NOT NULL, project_id INTEGER NOT NULL, type TEXT NOT NULL,
  data TEXT NOT NULL, created TEXT NOT NULL, updated TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS rules (
  id INTEGER PRIMARY KEY, project_id INTEGER NOT NULL, data TEXT NOT NULL, created TEXT NOT NULL,
  deleted INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS alert_rules (
  id INTEGER PRIMARY KEY, org_id INTEGER NOT NULL, data TEXT NOT NULL, created TEXT NOT NULL,
  updated TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS items (
  id INTEGER PRIMARY KEY, project_id INTEGER NOT NULL, key_id INTEGER NOT NULL, event_id TEXT,
  type TEXT NOT NULL, environment TEXT, release TEXT, received REAL NOT NULL, timestamp REAL,
  payload TEXT NOT NULL, headers TEXT NOT NULL DEFAULT '{}');
CREATE INDEX IF NOT EXISTS items_project ON items(project_id, type, id);
CREATE INDEX IF NOT EXISTS items_event ON items(project_id, event_id);
CREATE TABLE IF NOT EXISTS records (
  id INTEGER PRIMARY KEY, item_id INTEGER NOT NULL, project_id INTEGER NOT NULL, key_id INTEGER NOT NULL,
  kind TEXT NOT NULL, trace_id TEXT, record_id TEXT, environment TEXT, release TEXT, timestamp REAL,
  received REAL NOT NULL, payload TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS records_project ON records(project_id, kind, id);
CREATE INDEX IF NOT EXISTS records_trace ON records(trace_id);
CREATE TABLE IF NOT EXISTS monitors (
  id INTEGER PRIMARY KEY, guid TEXT NOT NULL UNIQUE, org_id INTEGER NOT NULL, project_id INTEGER NOT NULL,
  slug TEXT NOT NULL, name TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'active', is_muted INTEGER NOT NULL DEFAULT 0,
  owner TEXT, config TEXT NOT NULL, created TEXT NOT NULL, deleted INTEGER NOT NULL DEFAULT 0);
CREATE UNIQUE INDEX IF NOT EXISTS monitors_slug ON monitors(org_id, slug) WHERE deleted = 0;
CREATE TABLE IF NOT EXISTS monitor_envs (
  id INTEGER PRIMARY KEY, monitor_id INTEGER NOT NULL, name TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'active',
  is_muted INTEGER NOT NULL DEFAULT 0, created TEXT NOT NULL, last_checkin REAL, next_checkin REAL,
  next_checkin_latest REAL, incident_start REAL, UNIQUE (monitor_id, name));
CREATE TABLE IF NOT EXISTS checkins (
  id INTEGER PRIMARY KEY, guid TEXT NOT NULL, monitor_id INTEGER NOT NULL, env_id INTEGER NOT NULL,
  status TEXT NOT NULL, duration INTEGER, date_added REAL NOT NULL, date_updated REAL NOT NULL,
  date_in_progress REAL, date_clock REAL NOT NULL, expected_time REAL, timeout_at REAL, trace_id TEXT,
  config TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS checkins_monitor ON checkins(monitor_id, id);
CREATE INDEX IF NOT EXISTS checkins_guid ON checkins(guid);
CREATE TABLE IF NOT EXISTS groups (
  id INTEGER PRIMARY KEY, project_id INTEGER NOT NULL, hash TEXT NOT NULL, short_seq INTEGER NOT NULL,
  title TEXT NOT NULL, culprit TEXT, level TEXT NOT NULL, type TEXT NOT NULL, metadata TEXT NOT NULL,
  platform TEXT, status TEXT NOT NULL DEFAULT 'unresolved', substatus TEXT DEFAULT 'new',
  is_bookmarked INTEGER NOT NULL DEFAULT 0, has_seen INTEGER NOT NULL DEFAULT 0, created REAL NOT NULL,
  deleted INTEGER NOT NULL DEFAULT 0, UNIQUE (project_id, hash));
CREATE TABLE IF NOT EXISTS project_item_types (
  project_id INTEGER NOT NULL, type TEXT NOT NULL, PRIMARY KEY (project_id, type));
CREATE TABLE IF NOT EXISTS releases (
  id INTEGER PRIMARY KEY, project_id INTEGER NOT NULL, version TEXT NOT NULL, UNIQUE (project_id, version));
CREATE TABLE IF NOT EXISTS org_releases (
  id INTEGER PRIMARY KEY, org_id INTEGER NOT NULL, version TEXT NOT NULL, data TEXT NOT NULL DEFAULT '{}',
  created TEXT NOT NULL, UNIQUE (org_id, version));
CREATE TABLE IF NOT EXISTS deploys (
  id INTEGER PRIMARY KEY, release_id INTEGER NOT NULL, environment TEXT NOT NULL, name TEXT, url TEXT,
  date_started TEXT, date_finished TEXT NOT NULL, projects TEXT NOT NULL DEFAULT '[]');
CREATE TABLE IF NOT EXISTS outcomes (
  key_id INTEGER NOT NULL, ts INTEGER NOT NULL, outcome TEXT NOT NULL, category TEXT NOT NULL,
  n INTEGER NOT NULL, PRIMARY KEY (key_id, ts, outcome, category));
"""


def now_iso() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def loads(text: str | None) -> Any:
    return json.loads(text) if text else None


class Database:
    """All access goes through one connection and one re-entrant lock; SQLite serialises writers anyway."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.lock = threading.RLock()
        self.conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self.conn.row_factory = sqlite3.Row
        if path != ":memory:":
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.execute("PRAGMA foreign_keys=OFF")
        self.conn.executescript(SCHEMA)
        self._migrate()
        self._depth = 0
        self.memo: set[tuple[Any, ...]] = set()  # rows known to exist (idempotent inserts skipped by ingest)

    def _migrate(self) -> None:
        """Columns added after a database was created (SQLite's CREATE IF NOT EXISTS does not add them)."""
        columns = {str(r[1]) for r in self.conn.execute("PRAGMA table_info(items)").fetchall()}
        if "group_id" not in columns:
            self.conn.execute("ALTER TABLE items ADD COLUMN group_id INTEGER")
            self.conn.execute("ALTER TABLE items ADD COLUMN user_key TEXT")
        self.conn.execute("CREATE INDEX IF NOT EXISTS items_group ON items(group_id, id)")

    @contextmanager
    def tx(self) -> Iterator[Database]:
        """A write transaction (re-entrant: nested calls join the outer one)."""
        with self.lock:
            if self._depth:
                self._depth += 1
                try:
                    yield self
                finally:
                    self._depth -= 1
                return
            self.conn.execute("BEGIN IMMEDIATE")
            self._depth = 1
            try:
                yield self
            except BaseException:
                self._depth = 0
                self.conn.execute("ROLLBACK")
                raise
            self._depth = 0
            self.conn.execute("COMMIT")

    def all(self, sql: str, args: Sequence[Any] = ()) -> list[sqlite3.Row]:
        with self.lock:
            return self.conn.execute(sql, args).fetchall()

    def one(self, sql: str, args: Sequence[Any] = ()) -> sqlite3.Row | None:
        with self.lock:
            row: sqlite3.Row | None = self.conn.execute(sql, args).fetchone()
            return row

    def scalar(self, sql: str, args: Sequence[Any] = ()) -> Any:
        row = self.one(sql, args)
        return None if row is None else row[0]

    def run(self, sql: str, args: Sequence[Any] = ()) -> int:
        """Execute a statement; returns lastrowid."""
        with self.lock:
            cur = self.conn.execute(sql, args)
            return int(cur.lastrowid or 0)

    def get_meta(self, key: str) -> str | None:
        value = self.scalar("SELECT v FROM meta WHERE k = ?", (key,))
        return None if value is None else str(value)

    def set_meta(self, key: str, value: str) -> None:
        self.run("INSERT INTO meta (k, v) VALUES (?, ?) ON CONFLICT(k) DO UPDATE SET v = excluded.v", (key, value))

    def close(self) -> None:
        with self.lock:
            self.conn.close()
