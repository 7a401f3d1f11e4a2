"""The built-in SMTP server (`--smtp-port`): aiosmtpd on its own event-loop thread, every message it accepts kept in
the `mail` table (sender, recipients, subject, the message as received), shown on the page's Alerts view and
listed by `GET /_localsentry/mail`. Email actions of firing workflows are delivered to it."""

from __future__ import annotations

import asyncio
import threading
import time
from email import message_from_bytes
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session

from localsentry.db import Database, dumps


class _Handler:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or (envelope.content if isinstance(envelope.content, bytes) else b"")
        subject = message_from_bytes(raw).get("Subject")
        with self.db.tx():
            self.db.run("INSERT INTO mail (received, mail_from, rcpt_to, subject, message) VALUES (?, ?, ?, ?, ?)",
                        (time.time(), envelope.mail_from, dumps(list(envelope.rcpt_tos)), subject,
                         raw.decode("utf-8", errors="replace")))  # fmt: skip
        return "250 Message accepted for delivery"


class Mailbox:
    """Start with `start()` (binds at once, so the port is known), stop with `stop()`."""

    def __init__(self, db: Database, host: str = "127.0.0.1", port: int = 0) -> None:
        self.db, self.host, self.port = db, host, port
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="localsentry-smtp", daemon=True)
        self.server: Any = None

    def start(self) -> tuple[str, int]:
        handler = _Handler(self.db)
        factory = self.loop.create_server(lambda: SMTP(handler, hostname="localsentry"), self.host, self.port)
        self.server = self.loop.run_until_complete(factory)
        self.port = int(self.server.sockets[0].getsockname()[1])
        self.thread.start()
        return self.host, self.port

    def stop(self) -> None:
        if self.server is None:
            return

        async def close() -> None:
            self.server.close()
            await self.server.wait_closed()

        asyncio.run_coroutine_threadsafe(close(), self.loop).result(timeout=5)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)
        self.server = None


__all__ = ["Mailbox"]
