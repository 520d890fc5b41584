"""Reading threads: published comments as a tree, with the site's display times."""

from __future__ import annotations

from dataclasses import dataclass, field

from .comments import published_comments
from .models import Comment, Thread
from .rendering import display_time


@dataclass
class Node:
    """A published comment and its published replies."""

    comment: Comment
    display_time: str
    replies: list[Node] = field(default_factory=list)


def comment_tree(thread: Thread) -> list[Node]:
    """Top-level comments oldest first, each with its replies nested under it."""
    timezone = thread.site.timezone
    nodes = {
        c.id: Node(c, display_time(c.created_at, timezone))
        for c in published_comments(thread)
    }
    roots: list[Node] = []
    for node in nodes.values():
        parent = nodes.get(node.comment.parent_id) if node.comment.parent_id else None
        if parent is not None:
            parent.replies.append(node)
        elif node.comment.parent_id is None:
            roots.append(node)
        # A reply whose parent is no longer published is not shown on its own.
    return roots


def comment_json(comment: Comment, timezone: str) -> dict[str, object]:
    """The public fields of a published comment: never the email or the raw body."""
    return {
        "id": comment.id,
        "parent_id": comment.parent_id,
        "handle": comment.handle,
        "created_at": comment.created_at.isoformat(),
        "display_time": display_time(comment.created_at, timezone),
        "html": comment.html,
    }
