"""Numbered schema migrations: how a localsentry database file gets from any earlier release to this one, in place.

A migration is one file in this folder named `NNNN_what.sql` or `NNNN_what.py` (four digits, numbered 1, 2, 3 …
without gaps). A `.sql` file is a list of SQL statements; a `.py` file defines `migrate(conn)` that changes the
database through `conn.execute` only (no `executescript`, no `commit`) and imports nothing of localsentry, so it
means the same in every later release. Each migration runs in its own `BEGIN IMMEDIATE` transaction together with
the record of it: `PRAGMA user_version` becomes its number and `schema_migrations` gets a row (version, name,
time). A failing migration leaves the database as it was before it.

`migrate(conn)` runs, in order, every migration above the database's version; a second process opening the same
file waits for the first (the transaction is immediate) and finds nothing left to do. A database of a later
release (a version above the last migration here) is refused before anything changes.

0001 is the schema of the last release without migrations, written with `IF NOT EXISTS` throughout: a database of
that release (version 0, tables present) passes through it unchanged and continues with 0002.
"""

from __future__ import annotations

import importlib
import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources

FILE_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.(sql|py)$")


class MigrationError(RuntimeError):
    """A database this localsentry cannot open (made by a later release) or a broken migration folder."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    kind: str  # "sql" or "py"

    @property
    def file_name(self) -> str:
        return f"{self.version:04d}_{self.name}.{self.kind}"

    def run(self, conn: sqlite3.Connection) -> None:
        if self.kind == "sql":
            for statement in statements(resources.files(__name__).joinpath(self.file_name).read_text("utf-8")):
                conn.execute(statement)
            return
        module = importlib.import_module(f"{__name__}.{self.file_name[:-3]}")
        step: Callable[[sqlite3.Connection], None] = module.migrate
        step(conn)


def statements(script: str) -> list[str]:
    """The complete SQL statements of a script, in order (comments and blank lines between them dropped)."""
    found: list[str] = []
    pending = ""
    for line in script.splitlines(keepends=True):
        if not pending and (not line.strip() or line.lstrip().startswith("--")):
            continue
        pending += line
        if sqlite3.complete_statement(pending):
            found.append(pending.strip())
            pending = ""
    if pending.strip():
        raise MigrationError(f"incomplete SQL statement at the end of a migration: {pending.strip()[:80]!r}")
    return found


def available() -> list[Migration]:
    """Every migration in this folder, by number; numbers run 1..N without a gap or a repeat."""
    found: dict[int, Migration] = {}
    for entry in resources.files(__name__).iterdir():
        match = FILE_NAME.match(entry.name)
        if match is None:
            continue
        version = int(match.group(1))
        if version in found:
            raise MigrationError(f"two migrations numbered {version:04d}: {found[version].file_name}, {entry.name}")
        found[version] = Migration(version, match.group(2), match.group(3))
    ordered = [found[v] for v in sorted(found)]
    for expected, migration in enumerate(ordered, start=1):
        if migration.version != expected:
            raise MigrationError(f"migration {expected:04d} is missing (found {migration.file_name})")
    return ordered


def version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(conn: sqlite3.Connection, steps: list[Migration] | None = None) -> list[int]:
    """Bring the database up to the last migration; returns the versions applied now (autocommit connection)."""
    steps = available() if steps is None else steps
    latest = steps[-1].version if steps else 0
    if version(conn) > latest:
        raise MigrationError(
            f"this database has schema version {version(conn)}, newer than this localsentry knows ({latest}): "
            "it was made by a later release; run that release, or start this one on another --db file"
        )
    applied: list[int] = []
    for step in steps:
        if version(conn) >= step.version:
            continue
        conn.execute("BEGIN IMMEDIATE")
        try:
            if version(conn) < step.version:  # another process may have run it while we waited for the lock
                step.run(conn)
                conn.execute(f"PRAGMA user_version = {step.version:d}")
                conn.execute(
                    "INSERT INTO schema_migrations (version, name, applied) VALUES (?, ?, ?)",
                    (step.version, step.name, datetime.now(UTC).isoformat().replace("+00:00", "Z")),
                )
                applied.append(step.version)
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
    return applied


__all__ = ["Migration", "MigrationError", "available", "migrate", "statements", "version"]
