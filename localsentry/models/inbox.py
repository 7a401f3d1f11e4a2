"""What localsentry's own receivers got: the built-in SMTP server's messages (`mail`) and the built-in webhook
receiver's POSTs (`webhook_inbox`), in the shapes the page and `/_localsentry/mail|hooks` show."""

from __future__ import annotations

import sqlite3
from email import message_from_string
from email.message import Message
from typing import Any

from localsentry.db import Database, dumps, loads
from localsentry.models.issues import iso


def _text(message: Message) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            payload = part.get_payload(decode=True)
            return payload.decode("utf-8", errors="replace") if isinstance(payload, bytes) else str(payload)
    return ""


def serialize_mail(row: sqlite3.Row, full: bool = False) -> dict[str, Any]:
    parsed = message_from_string(str(row["message"]))
    body = {"id": str(row["id"]), "received": iso(float(row["received"])), "from": row["mail_from"],
            "to": loads(row["rcpt_to"]) or [], "subject": row["subject"], "text": _text(parsed)}  # fmt: skip
    if full:
        body["message"] = row["message"]
    return body


def serialize_hook(row: sqlite3.Row) -> dict[str, Any]:
    text = str(row["body"])
    try:
        parsed: Any = loads(text)
    except ValueError:
        parsed = None
    return {"id": str(row["id"]), "received": iso(float(row["received"])), "name": row["name"],
            "headers": loads(row["headers"]) or {}, "json": parsed, "body": None if parsed is not None else text}


def receive_hook(db: Database, name: str, headers: dict[str, str], body: bytes, at: float) -> int:
    with db.tx():
        return db.run("INSERT INTO webhook_inbox (received, name, headers, body) VALUES (?, ?, ?, ?)",
                      (at, name, dumps(headers), body.decode("utf-8", errors="replace")))


__all__ = ["receive_hook", "serialize_hook", "serialize_mail"]
