"""How a mail leaves: SMTP (MODERATION_MAIL_URL), or an .eml file per mail.

    smtp://user:password@host:587        STARTTLS when the server offers it
    smtp://host:587?tls=required         refuse to send unless STARTTLS works
    smtp://host:25?tls=off               never STARTTLS (a relay on localhost)
    smtps://user:password@host:465       TLS from the first byte

Unset, the embedded default needs no mail server: each mail is written as
`<instance>/mail/<date>-<message id>.eml` and logged. A failure says whether it
is worth trying again (a 4xx, a timeout, a dropped connection) or not (a 5xx:
the server refused the sender, the recipient or the message for good).
"""

from __future__ import annotations

import logging
import re
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol
from urllib.parse import parse_qs, unquote, urlsplit

logger = logging.getLogger(__name__)


class SendError(Exception):
    """A mail that did not go out; `permanent` when trying again cannot help."""

    def __init__(self, message: str, *, permanent: bool, code: int | None = None):
        super().__init__(message)
        self.permanent = permanent
        self.code = code


class Transport(Protocol):
    @property
    def description(self) -> str:
        """Where mail goes, for the logs and `make run`."""

    def send(self, message: EmailMessage) -> None:
        """Hand the message on, or raise SendError."""


class BadMailUrl(ValueError):
    """MODERATION_MAIL_URL is not one this module reads."""


@dataclass(frozen=True)
class SmtpTransport:
    host: str
    port: int
    implicit_tls: bool
    starttls: str  # "auto", "required" or "off"
    username: str | None
    password: str | None
    timeout: float

    @property
    def description(self) -> str:
        scheme = "smtps" if self.implicit_tls else "smtp"
        return f"{scheme}://{self.host}:{self.port} (starttls {self.starttls})"

    def _connect(self) -> smtplib.SMTP:
        context = ssl.create_default_context()
        if self.implicit_tls:
            return smtplib.SMTP_SSL(
                self.host, self.port, timeout=self.timeout, context=context
            )
        client = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        client.ehlo()
        if self.starttls != "off" and client.has_extn("starttls"):
            client.starttls(context=context)
            client.ehlo()
        elif self.starttls == "required":
            client.close()
            raise SendError(
                f"{self.host}:{self.port} does not offer STARTTLS (tls=required)",
                permanent=False,
            )
        return client

    def send(self, message: EmailMessage) -> None:
        try:
            client = self._connect()
            try:
                if self.username:
                    client.login(self.username, self.password or "")
                client.send_message(message)
            finally:
                try:
                    client.quit()
                except smtplib.SMTPException:
                    client.close()
        except smtplib.SMTPRecipientsRefused as error:
            code, text = next(iter(error.recipients.values()))
            raise _response(code, text) from error
        except smtplib.SMTPResponseException as error:
            raise _response(error.smtp_code, error.smtp_error) from error
        except (smtplib.SMTPException, OSError) as error:
            # Refused, timed out, dropped mid-dialogue: the server may be back.
            raise SendError(
                f"{type(error).__name__}: {error}", permanent=False
            ) from error


def _response(code: int, text: bytes | str) -> SendError:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return SendError(f"{code} {text}", permanent=500 <= code < 600, code=code)


@dataclass(frozen=True)
class EmlTransport:
    """Each mail as an .eml file: the embedded default, which needs no server."""

    directory: Path

    @property
    def description(self) -> str:
        return f".eml files in {self.directory}"

    def send(self, message: EmailMessage) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        ident = re.sub(r"[^A-Za-z0-9.-]", "_", str(message["Message-ID"] or ""))
        path = self.directory / f"{ident.strip('_')[:120] or 'mail'}.eml"
        try:
            path.write_bytes(message.as_bytes())
        except OSError as error:
            raise SendError(f"cannot write {path}: {error}", permanent=False) from error
        logger.info("mail to %s written to %s", message["To"], path)


def transport_for(url: str | None, directory: Path, timeout: float) -> Transport:
    """The transport MAIL_URL names, or .eml files under `directory`."""
    if not url:
        return EmlTransport(directory)
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise BadMailUrl(
            "MODERATION_MAIL_URL must look like smtp://user:password@host:587 or "
            "smtps://host:465"
        )
    options = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    starttls = options.get("tls", "auto")
    if starttls not in ("auto", "required", "off"):
        raise BadMailUrl("tls= in MODERATION_MAIL_URL is auto, required or off")
    implicit = parts.scheme == "smtps"
    return SmtpTransport(
        host=parts.hostname,
        port=parts.port or (465 if implicit else 25),
        implicit_tls=implicit,
        starttls=starttls,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        timeout=timeout,
    )
