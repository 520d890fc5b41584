"""A real SMTP server for the tests (aiosmtpd), and what it received.

`mode` makes it misbehave the ways servers do: "refuse" answers 550 to every
recipient, "tempfail" 451, "hang" sits on DATA longer than any client waits,
"drop" closes the connection at DATA. "accept" (the default) keeps every mail.
"""

from __future__ import annotations

import email
import email.policy
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller


@dataclass
class Handler:
    mode: str = "accept"
    hang_seconds: float = 5.0
    received: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    arrived: threading.Condition = field(default_factory=threading.Condition)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if self.mode == "refuse":
            return "550 5.1.1 No such user here"
        if self.mode == "tempfail":
            return "451 4.3.0 Try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.mode == "hang":
            import asyncio

            await asyncio.sleep(self.hang_seconds)
        if self.mode == "drop":
            server.transport.close()
            return "421 closing"
        message = email.message_from_bytes(
            envelope.content, policy=email.policy.default
        )
        with self.arrived:
            self.received.append(message)  # type: ignore[arg-type]
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
            self.arrived.notify_all()
        return "250 Message accepted"

    def wait_for(self, count: int, timeout: float = 10.0) -> list[EmailMessage]:
        """Block until `count` mails arrived (or fail)."""
        deadline = time.monotonic() + timeout
        with self.arrived:
            while len(self.received) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"{len(self.received)} of {count} mails arrived"
                    )
                self.arrived.wait(left)
            return list(self.received)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def smtp_server(mode: str = "accept") -> Iterator[tuple[str, Handler]]:
    """(MAIL_URL for it, its handler), serving until the block ends."""
    handler = Handler(mode=mode)
    port = _free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield f"smtp://127.0.0.1:{port}?tls=off", handler
    finally:
        controller.stop()
