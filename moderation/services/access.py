"""Who may see and do what: admins everything, moderators their own sites."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask_login import current_user, login_required

from ..errors import Forbidden
from ..models import Moderator

View = TypeVar("View", bound=Callable[..., Any])


def site_ids(moderator: Moderator) -> set[int] | None:
    """The sites a moderator works; None for an admin, who works them all."""
    if moderator.is_admin:
        return None
    return {site.id for site in moderator.sites}


def can_moderate(moderator: Moderator, site_id: int) -> bool:
    """True when the moderator may see and decide this site's comments."""
    allowed = site_ids(moderator)
    return allowed is None or site_id in allowed


def require_site(moderator: Moderator, site_id: int) -> None:
    """Forbidden unless the moderator works this site."""
    if not can_moderate(moderator, site_id):
        raise Forbidden("You do not moderate this site.")


def admin_required(view: View) -> View:
    """A view only admins may open."""

    @wraps(view)
    @login_required
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_admin:
            raise Forbidden("Only admins may do this.")
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]
