"""SQLite storage: one connection shared by all threads behind a lock, WAL journal for file databases.

The schema comes from the numbered migrations in `localsentry.migrations`, applied when a database is opened."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from localsentry.migrations import migrate


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
        migrate(self.conn)
        self._depth = 0
        self.memo: set[tuple[Any, ...]] = set()  # rows known to exist (idempotent inserts skipped by ingest)

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

    def fetch(self, table: str, row_id: Any) -> sqlite3.Row:
        """The row of `table` with this id, which exists (it was just written or found): a missing one is a bug."""
        if not table.isidentifier():
            raise ValueError(f"not a table name: {table!r}")
        row = self.one(f"SELECT * FROM {table} WHERE id = ?", (row_id,))  # noqa: S608 - an identifier
        if row is None:
            raise LookupError(f"{table} {row_id} does not exist")
        return row

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
