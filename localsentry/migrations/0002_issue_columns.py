"""0002: the issue of each stored event (`items.group_id`) and who it happened to (`items.user_key`).

Added to databases made before issues existed; databases made after already have the columns (the previous
release added them at start-up), so each is added only when missing."""

from __future__ import annotations

import sqlite3


def migrate(conn: sqlite3.Connection) -> None:
    columns = {str(row[1]) for row in conn.execute("PRAGMA table_info(items)").fetchall()}
    if "group_id" not in columns:
        conn.execute("ALTER TABLE items ADD COLUMN group_id INTEGER")
    if "user_key" not in columns:
        conn.execute("ALTER TABLE items ADD COLUMN user_key TEXT")
    conn.execute("CREATE INDEX IF NOT EXISTS items_group ON items(group_id, id)")
