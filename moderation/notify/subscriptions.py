"""Readers' addresses and where they stand (double opt-in), with the audit log.

Every change of state goes through `change`, which writes an audit row naming
the address by its id only ("mail_address", id): the log never holds an address.
Once an address unsubscribed, stopped all mail or bounced, nothing sets it back:
asking for replies anew changes nothing, and nothing tells the form so.
"""

from __future__ import annotations

import sqlalchemy as sa

from ..extensions import db
from ..models import AddressState, MailAddress, utcnow
from ..services.audit import record

# States in which an address gets nothing, ever again.
FINAL = (AddressState.UNSUBSCRIBED, AddressState.STOPPED, AddressState.BOUNCED)


def find(email: str) -> MailAddress | None:
    """The address row for `email` (any case), if there is one."""
    return db.session.scalar(
        sa.select(MailAddress).where(MailAddress.email == email.strip().lower())
    )


def get_or_create(email: str) -> MailAddress:
    """The row for `email`, made pending if it is new (in the caller's
    transaction; a concurrent insert of the same address is taken, not doubled)."""
    email = email.strip().lower()
    found = find(email)
    if found is not None:
        return found
    address = MailAddress(email=email, state=AddressState.PENDING)
    try:
        with db.session.begin_nested():
            db.session.add(address)
    except sa.exc.IntegrityError:
        found = find(email)
        if found is None:
            raise
        return found
    return address


def change(address: MailAddress, state: AddressState, *, actor: str) -> bool:
    """Move `address` to `state` and audit it; False when it was there already.
    A final state is never left (a confirm link after "stop" changes nothing)."""
    if address.state is state:
        return False
    if address.state in FINAL and state is not AddressState.STOPPED:
        return False
    if address.state is AddressState.BOUNCED:
        return False  # bounced stays bounced: it says more than "stopped"
    before = address.state
    now = utcnow()
    address.state = state
    address.changed_at = now
    if state is AddressState.CONFIRMED:
        address.confirmed_at = now
    record(
        f"mail_address.{state.value}",
        "mail_address",
        address.id,
        actor=actor,
        before={"state": before.value},
        after={"state": state.value},
    )
    return True


def bounced(email: str) -> None:
    """The server refused `email` for good: never mail it again (the outbox)."""
    address = find(email)
    if address is not None:
        change(address, AddressState.BOUNCED, actor="mail")
