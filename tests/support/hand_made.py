"""Sentry objects made outside Pulumi, as a team that clicked its setup together has them (for the import, adopt
and orphans tests): a project with its "Default" key and a setting changed, an inbound filter turned on, and, made by
the provider's own calls as a hand with the API would make them, a metric monitor, a cron monitor and an alert."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.support.localsentry import LocalSentry, unique
from tests.support.plugin import Plugin


def hand_made(ls: LocalSentry, tmp_path: Path) -> dict[str, tuple[str, str, dict[str, Any]]]:
    """Objects made outside Pulumi; name -> (type, import id, what a program declares of it)."""
    project = ls.create_project(name=unique("hand"), platform="python")
    slug = project["slug"]
    key = ls.keys(slug)[0]
    ls.api("PUT", f"/api/0/projects/{ls.org}/{slug}/", json={"resolveAge": 72})
    ls.api("PUT", f"/api/0/projects/{ls.org}/{slug}/filters/browser-extensions/", json={"active": True})
    maker = Plugin(tmp_path)  # the provider's own calls, as a hand with the API would make them
    try:
        maker.configure({"baseUrl": ls.url, "organization": ls.org, "token": ls.token})
        monitor = {"project": slug, "name": "errors by hand", "aggregate": "count()", "timeWindow": 900,
                   "conditions": [{"type": "gt", "comparison": 50, "conditionResult": 75}]}
        _, made = maker.create("MetricMonitor", monitor)
        detector = made["detectorId"].value
        cron = {"project": slug, "slug": f"cron-{slug}"[:50], "name": "nightly by hand", "scheduleType": "crontab",
                "schedule": "0 3 * * *"}
        maker.create("CronMonitor", cron)
        alert = {"name": f"alert by hand {slug}", "projects": [slug], "detectorIds": [detector], "frequency": 60,
                 "actionFilters": [{"logicType": "all", "conditions": [], "actions": [
                     {"type": "email", "config": {"targetType": "issue_owners"}}]}]}
        _, made_alert = maker.create("Alert", alert)
    finally:
        maker.close()
    return {
        "project": ("Project", f"{ls.org}/{slug}", {"slug": slug, "teams": [ls.team], "platform": "python",
                                                    "resolveAge": 72}),
        "key": ("ClientKey", f"{ls.org}/{slug}/{key['id']}", {"project": slug, "name": key["name"]}),
        "filter": ("InboundFilter", f"{ls.org}/{slug}/browser-extensions",
                   {"project": slug, "filterId": "browser-extensions", "active": True}),
        "monitor": ("MetricMonitor", f"{ls.org}/{detector}", monitor),
        "cron": ("CronMonitor", f"{ls.org}/{cron['slug']}", cron),
        "alert": ("Alert", f"{ls.org}/{made_alert['workflowId'].value}", alert),
    }


__all__ = ["hand_made"]
