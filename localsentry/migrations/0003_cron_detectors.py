"""0003: every cron monitor has its `monitor_check_in_failure` detector, as in Sentry.

`detectors.monitor_id` names the monitor a cron detector watches. Monitors created before this release had
none, so an alert naming one watched nothing: each live monitor gets its detector here, shaped as
`localsentry.models.detectors.ensure_cron_detector` makes it (named like the monitor, its owner, enabled while
the monitor is active), with a data source id from the same sequence as every nested id."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime


def migrate(conn: sqlite3.Connection) -> None:
    conn.execute("ALTER TABLE detectors ADD COLUMN monitor_id INTEGER")
    conn.execute("CREATE UNIQUE INDEX detectors_monitor ON detectors(monitor_id) WHERE monitor_id IS NOT NULL")
    now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    row = conn.execute("SELECT v FROM meta WHERE k = 'seq'").fetchone()
    seq = int(row[0]) if row else 100000
    monitors = conn.execute(
        "SELECT id, org_id, project_id, name, owner, status FROM monitors WHERE deleted = 0 ORDER BY id"
    ).fetchall()
    for monitor_id, org_id, project_id, name, owner, status in monitors:
        seq += 1
        data = {"name": name, "description": None, "owner": owner, "createdBy": None, "dataSources": None,
                "conditionGroup": None, "config": {}, "enabled": status == "active", "dataSourceId": str(seq)}
        conn.execute(
            "INSERT INTO detectors (org_id, project_id, type, data, created, updated, monitor_id) "
            "VALUES (?, ?, 'monitor_check_in_failure', ?, ?, ?, ?)",
            (org_id, project_id, json.dumps(data, separators=(",", ":"), sort_keys=True), now, now, monitor_id),
        )
    conn.execute("INSERT INTO meta (k, v) VALUES ('seq', ?) ON CONFLICT(k) DO UPDATE SET v = excluded.v", (str(seq),))
