"""What a firing workflow sends, per action, in the shapes Sentry sends them (built when the workflow fires, stored in
the `deliveries` outbox, sent by the delivery worker).

- `webhook` (`config.targetIdentifier` "webhooks", the legacy WebHooks plugin): a JSON POST to each callback URL of
  the project's plugin (`PUT …/projects/{org}/{project}/plugins/webhooks/ {"urls": "…"}`), the plugin's payload:
  `{id, project, project_name, project_slug, logger, level, culprit, message, url, triggering_rules, event}` with
  `event` the event's data plus `tags` (a list of `[key, value]`), `event_id` and `id`; `User-Agent:
  sentry-webhooks/<version>`.
- `slack`: Slack's `chat.postMessage` body (`channel`, `text`, `blocks`: the title linked to the issue, the
  culprit, a context line, the Resolve/Archive buttons and a footer naming the alert), POSTed to the URL given
  with `--slack-url` (a Slack API base or any receiver), with the channel of `config.targetIdentifier`.
- `email`: a multipart message (text and HTML) with Sentry's subject `[Sentry] SHORT-ID - title`, to the
  organization's members (`issue_owners` falls through to `data.fallthroughType`: ActiveMembers/AllMembers, NoOne),
  the member of `user:<id>` or a team's members; sent over SMTP to the built-in server (`--smtp-port`).

localsentry's organization has one member, user 1, whose address is the delivery setting `member_email`.
Other action types are recorded as not delivered, with the reason.
"""

from __future__ import annotations

import html
import sqlite3
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import format_datetime, make_msgid
from typing import Any

from localsentry.db import Database, dumps, loads
from localsentry.models.issues import base32

VERSION = "26.8.0"
MEMBER_ID = "1"
SETTINGS_KEY = "delivery"
DEFAULTS = {"url": "", "slack_url": None, "member_email": "admin@localsentry.invalid",
            "mail_from": "Sentry <noreply@localsentry.invalid>", "smtp": None}  # fmt: skip


def settings(db: Database) -> dict[str, Any]:
    """The delivery settings the server stored at start (`App.start_workers`): its URL, Slack URL, member email."""
    return {**DEFAULTS, **(loads(db.get_meta(SETTINGS_KEY)) or {})}


@dataclass(frozen=True)
class Firing:
    """One workflow firing for one issue (and the event that made it fire, when there is one)."""

    workflow_id: int | None
    workflow_name: str
    org_slug: str
    project: sqlite3.Row
    group: sqlite3.Row
    event_id: str | None = None
    payload: dict[str, Any] = field(default_factory=dict)
    environment: str | None = None
    tags: list[tuple[str, str]] = field(default_factory=list)
    resolved: bool = False


@dataclass(frozen=True)
class Request:
    """A delivery to make: its type, where to, what (JSON-able), or why it cannot be made (`failure`)."""

    type: str
    target: str
    body: dict[str, Any]
    failure: str | None = None


def issue_url(base: str, firing: Firing, referrer: str) -> str:
    return f"{base}/organizations/{firing.org_slug}/issues/{firing.group['id']}/?referrer={referrer}"


def short_id(firing: Firing) -> str:
    return f"{str(firing.project['slug']).upper()}-{base32(int(firing.group['short_seq']))}"


def _message(firing: Firing) -> str:
    payload = firing.payload
    logentry: dict[str, Any] = payload["logentry"] if isinstance(payload.get("logentry"), dict) else {}
    return str(logentry.get("formatted") or payload.get("message") or firing.group["title"])


def webhook_payload(base: str, firing: Firing) -> dict[str, Any]:
    """The WebHooks plugin's body (`get_group_data`)."""
    event = dict(firing.payload)
    event.update(tags=[[k, v] for k, v in firing.tags], event_id=firing.event_id, id=firing.event_id)
    tags = dict(firing.tags)
    return {
        "id": str(firing.group["id"]), "project": firing.project["slug"], "project_name": firing.project["name"],
        "project_slug": firing.project["slug"], "logger": tags.get("logger"),
        "level": tags.get("level", firing.group["level"]), "culprit": firing.group["culprit"],
        "message": _message(firing), "url": issue_url(base, firing, "webhooks_plugin"),
        "triggering_rules": [firing.workflow_name], "event": event,
    }  # fmt: skip


def slack_body(base: str, firing: Firing, channel: str) -> dict[str, Any]:
    """Slack's chat.postMessage body with the blocks of Sentry's issue alert message."""
    title = str(firing.group["title"])
    url = issue_url(base, firing, "slack")
    emoji = ":white_circle:" if firing.resolved else ":red_circle:"
    state = "Resolved" if firing.resolved else "New" if firing.group["substatus"] == "new" else "Ongoing"
    culprit = firing.group["culprit"] or ""
    alert_url = f"{base}/organizations/{firing.org_slug}/monitors/alerts/{firing.workflow_id}/"
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": f"{emoji} <{url}|*{title}*>"}, "block_id": "title"},
        {"type": "section", "text": {"type": "mrkdwn", "text": f"```{_message(firing)}```"}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": f"State: *{state}*   {culprit}".rstrip()}]},
        {"type": "actions", "elements": [
            {"type": "button", "text": {"type": "plain_text", "text": "Resolve"}, "action_id": "resolve_dialog",
             "value": "resolve_dialog"},
            {"type": "button", "text": {"type": "plain_text", "text": "Archive"}, "action_id": "archive_dialog",
             "value": "archive_dialog"}]},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": f"{short_id(firing)} | Alert: "
                                          f"<{alert_url}|{firing.workflow_name}>"}]},
    ]  # fmt: skip
    return {"channel": channel, "text": f"[{firing.project['slug']}] {title}", "blocks": blocks,
            "unfurl_links": False, "unfurl_media": False}  # fmt: skip


def email_message(base: str, firing: Firing, sender: str, to: list[str]) -> str:
    subject = f"[Sentry] {short_id(firing)} - {firing.group['title']}"
    if firing.resolved:
        subject = f"Resolved: {subject}"
    url = issue_url(base, firing, "alert_email")
    msg = EmailMessage()
    msg["Subject"], msg["From"], msg["To"] = subject, sender, ", ".join(to)
    msg["Date"] = format_datetime(datetime.now(UTC))
    msg["Message-Id"] = make_msgid(domain="localsentry.invalid")
    msg["X-Sentry-Project"] = str(firing.project["slug"])
    lines = [str(firing.group["title"]), "", f"Alert: {firing.workflow_name}", f"Project: {firing.project['slug']}",
             f"Environment: {firing.environment or '-'}", f"Level: {firing.group['level']}", "",
             _message(firing), "", f"Details: {url}"]  # fmt: skip
    msg.set_content("\n".join(lines))
    rows = "".join(f"<li>{html.escape(line)}</li>" for line in lines[2:6])
    msg.add_alternative(f"<html><body><h2><a href=\"{html.escape(url)}\">{html.escape(str(firing.group['title']))}"
                        f"</a></h2><ul>{rows}</ul><pre>{html.escape(_message(firing))}</pre></body></html>",
                        subtype="html")  # fmt: skip
    return msg.as_string(policy=SMTP_POLICY)


def _recipients(db: Database, action: dict[str, Any], member: str) -> tuple[list[str], str | None]:
    config = action.get("config") or {}
    target, ident = config.get("targetType"), config.get("targetIdentifier")
    if target == "user":
        if str(ident) != MEMBER_ID:
            return [], f"user {ident} is not a member of the organization"
        return [member], None
    if target == "team":
        team_id = int(str(ident)) if str(ident).isdigit() else -1
        team = db.one("SELECT id FROM teams WHERE id = ? AND deleted = 0", (team_id,))
        return ([member], None) if team is not None else ([], f"team {ident} does not exist")
    fallthrough = (action.get("data") or {}).get("fallthroughType", "ActiveMembers")
    if fallthrough == "NoOne":
        return [], "no issue owners and fallthroughType NoOne"
    return [member], None


def requests_for(db: Database, action: dict[str, Any], firing: Firing) -> list[Request]:
    """The deliveries one action makes for a firing (one per webhook URL)."""
    conf = settings(db)
    base, kind = str(conf["url"]), str(action.get("type"))
    config = action.get("config") or {}
    if kind == "webhook":
        service = config.get("targetIdentifier") or "webhooks"
        plugin = (loads(firing.project["data"]) or {}).get("plugins", {}).get("webhooks", {})
        if service != "webhooks":
            return [Request(kind, str(service), {}, f"no service '{service}' (localsentry has the WebHooks plugin, "
                                                    "'webhooks')")]  # fmt: skip
        urls = [u.strip() for u in str(plugin.get("urls") or "").splitlines() if u.strip()]
        if not plugin.get("enabled") or not urls:
            why = "is not enabled" if not plugin.get("enabled") else "has no callback URLs"
            return [Request(kind, "webhooks", {}, f"the WebHooks plugin of project {firing.project['slug']} {why}")]
        headers = {"User-Agent": f"sentry-webhooks/{VERSION}", "Content-Type": "application/json"}
        body = webhook_payload(base, firing)
        return [Request(kind, url, {"url": url, "headers": headers, "json": body}) for url in urls]
    if kind == "slack":
        channel = str(config.get("targetIdentifier") or config.get("targetDisplay") or "")
        url = conf.get("slack_url")
        if not url:
            return [Request(kind, channel, {}, "no Slack workspace: start localsentry with --slack-url URL")]
        return [Request(kind, channel, {"url": url, "headers": {"Content-Type": "application/json"},
                                        "json": slack_body(base, firing, channel)})]  # fmt: skip
    if kind == "email":
        to, problem = _recipients(db, action, str(conf["member_email"]))
        target = ", ".join(to) or f"{config.get('targetType')}:{config.get('targetIdentifier') or ''}"
        if problem is not None:
            return [Request(kind, target, {}, problem)]
        return [Request(kind, target, {"smtp": True, "from": conf["mail_from"], "to": to,
                                       "message": email_message(base, firing, str(conf["mail_from"]), to)})]
    return [Request(kind, str(config.get("targetIdentifier") or action.get("integrationId") or ""), {},
                    f"localsentry delivers email, webhook and slack actions, not {kind}")]  # fmt: skip


def enqueue(db: Database, fire_id: int | None, workflow_id: int | None, action: dict[str, Any],
            requests: list[Request], now: float) -> list[int]:  # fmt: skip
    """Store the deliveries (inside the caller's transaction); a request that cannot be made is stored failed."""
    ids = []
    for req in requests:
        status = "failed" if req.failure else "pending"
        ids.append(db.run(
            "INSERT INTO deliveries (fire_id, workflow_id, action_id, type, target, request, status, next_attempt, "
            "detail, created, finished) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (fire_id, workflow_id, str(action.get("id") or ""), req.type, req.target, dumps(req.body), status, now,
             req.failure, now, now if req.failure else None)))  # fmt: skip
    return ids


def serialize_delivery(row: sqlite3.Row) -> dict[str, Any]:
    request = loads(row["request"]) or {}
    body = request.get("json") if "json" in request else None
    return {
        "id": str(row["id"]), "fireId": None if row["fire_id"] is None else str(row["fire_id"]),
        "workflowId": None if row["workflow_id"] is None else str(row["workflow_id"]),
        "groupId": str(row["group_id"]) if "group_id" in row.keys() and row["group_id"] is not None else None,
        "actionId": row["action_id"] or None, "type": row["type"], "target": row["target"], "status": row["status"],
        "attempts": int(row["attempts"]), "detail": row["detail"], "created": _iso(row["created"]),
        "finished": _iso(row["finished"]), "payload": body,
        "subject": _subject(request.get("message")) if request.get("smtp") else None,
    }  # fmt: skip


def _subject(message: Any) -> str | None:
    for line in str(message or "").splitlines():
        if line.startswith("Subject: "):
            return line[len("Subject: "):]
    return None


def _iso(ts: float | None) -> str | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z")


__all__ = ["DEFAULTS", "MEMBER_ID", "SETTINGS_KEY", "Firing", "Request", "email_message", "enqueue", "issue_url",
           "requests_for", "serialize_delivery", "settings", "short_id", "slack_body", "webhook_payload"]
