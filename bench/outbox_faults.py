"""What the outbox does when the SMTP server misbehaves, measured.

    .venv/bin/python bench/outbox_faults.py [--mails 50] [--timeout 10]

For each behaviour of a real SMTP server (aiosmtpd, tests/mail_server.py):
accept, refuse (550 to every recipient), tempfail (451), hang (sits on DATA
longer than MAIL_TIMEOUT) and drop (closes the connection at DATA), the outbox
of a fresh SQLite database gets --mails mails to distinct addresses and one
sender pass sends what it can. Reported per behaviour: the rows sent, retried
(due again after OUTBOX_RETRY_SECONDS, doubling), given back unsent (the server
did not answer: the rest waits for the next pass), failed for good, the seconds
the pass took, and then, with the server accepting again and the retries made
due, how many were sent, how many arrived in total and whether any address got
two. Run by hand;
never part of the suite.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from email.message import EmailMessage
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import sqlalchemy as sa  # noqa: E402
from flask_migrate import upgrade  # noqa: E402
from mail_server import smtp_server  # noqa: E402

from moderation import create_app  # noqa: E402
from moderation.extensions import db  # noqa: E402
from moderation.models import OutboxMessage, utcnow  # noqa: E402
from moderation.notify import outbox  # noqa: E402

TOPIC = "bench-note"


@outbox.composer(TOPIC)
def _note(rows):
    message = EmailMessage()
    message["Subject"] = "A note"
    message.set_content(str(rows[0].payload["text"]))
    return message


def _app(directory: Path, url: str, timeout: float):
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{directory / 'bench.db'}",
            "SECRET_KEY": "bench",
            "IN_PROCESS_WORKER": False,
            "CLASSIFIER": "profanity-check",
            "CLASSIFIER_PRELOAD": False,
            "MAIL_URL": url,
            "MAIL_TIMEOUT": timeout,
            "MAIL_PER_ADDRESS_HOUR": 1000,
            "MAIL_PER_SITE_HOUR": 100000,
            "OUTBOX_BATCH": 1000,
        }
    )
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
    return app


def run(mode: str, mails: int, timeout: float) -> str:
    with tempfile.TemporaryDirectory() as tmp, smtp_server(mode) as (url, handler):
        handler.hang_seconds = timeout + 2
        app = _app(Path(tmp), url, timeout)
        with app.app_context():
            for n in range(mails):
                outbox.enqueue_mail(
                    topic=TOPIC, recipient=f"reader{n}@example.org", payload={"text": n}
                )
            db.session.commit()
        started = time.monotonic()
        with app.app_context():
            done = outbox.deliver_due()
        took = time.monotonic() - started
        # The server recovers; the retries come due.
        handler.mode = "accept"
        with app.app_context():
            db.session.execute(sa.update(OutboxMessage).values(due_at=utcnow()))
            db.session.commit()
            later = outbox.deliver_due()
        # The rest of the retries, pass after pass, as the sender would.
        with app.app_context():
            while True:
                more = outbox.deliver_due()
                later.sent += more.sent
                if not more.progress:
                    break
        time.sleep(0.5)
        recipients = [str(mail["To"]) for mail in handler.received]
        twice = len(recipients) - len(set(recipients))
        return (
            f"| {mode} | {done.sent} | {done.retried} | {done.deferred} "
            f"| {done.failed} | {took:.1f} s | {later.sent} "
            f"| {len(set(recipients))} of {mails} | {twice} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mails", type=int, default=50)
    parser.add_argument("--timeout", type=float, default=10.0)
    args = parser.parse_args()
    print(
        "| server | sent | to retry | given back | failed | first pass "
        "| sent later | arrived | twice |\n|---|---|---|---|---|---|---|---|---|"
    )
    for mode in ("accept", "refuse", "tempfail", "hang", "drop"):
        mails = min(args.mails, 5) if mode == "hang" else args.mails
        print(run(mode, mails, args.timeout), flush=True)


if __name__ == "__main__":
    main()
