"""What happens to comments and threads, announced by the code that does it.

The services send these inside the transaction of the change, before its commit,
so whatever a receiver adds to the session (the notifications' outbox rows,
notify/events.py) is committed with the change or not at all. Receivers must not
commit, send, wait or raise for anything outside the database. Sent with the
comment or thread as sender:

- comment_posted: a reader stored a comment (before screening).
- comment_published, comment_held, comment_rejected: a verdict; `by` is the
  moderator, or None for the screen; `was` the status it left.
- comment_reported: a reader's report; `crossed` when it took the comment past
  its site's threshold.
- thread_created: a thread's first view created it.
- thread_surged: the surge guard switched the thread to pre-moderation.

blinker (a Flask dependency) keeps the services free of what listens: the
layers below never import the notifications above them (docs/architecture.md).
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

comment_posted = _signals.signal("comment-posted")
comment_published = _signals.signal("comment-published")
comment_held = _signals.signal("comment-held")
comment_rejected = _signals.signal("comment-rejected")
comment_reported = _signals.signal("comment-reported")
thread_created = _signals.signal("thread-created")
thread_surged = _signals.signal("thread-surged")
