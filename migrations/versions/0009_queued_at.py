"""Time in queue: when a comment entered the review queue it is in.

Adds comments.queued_at (when the comment entered the queue it is in now; NULL
when it is in none) and decisions.queued_at (for a moderator's decision on a
queued comment: when it entered the queue it was decided from).

Backfill:
- a held comment: its latest hold (the screen's verdict, a moderator's re-hold,
  or the hold that reports past the site's threshold caused, written in the
  same transaction as the report that crossed it), else screened_at, else
  created_at;
- a published comment with open reports (the Reported tab): its oldest open
  report;
- a moderator's decision on a held comment: the latest hold before it, else the
  comment's screened_at or created_at (what the dashboard computed until now).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 00:10:00

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

# Statuses are stored as plain strings (non-native enums), so literals compare.
HELD_COMMENTS = """
UPDATE comments SET queued_at = COALESCE(
    (SELECT max(d.created_at) FROM decisions d
     WHERE d.comment_id = comments.id AND d.to_status = 'held'),
    comments.screened_at,
    comments.created_at)
WHERE comments.status = 'held'
"""
REPORTED_COMMENTS = """
UPDATE comments SET queued_at = (
    SELECT min(r.created_at) FROM reports r
    WHERE r.comment_id = comments.id AND r.resolved_at IS NULL)
WHERE comments.status = 'published' AND EXISTS (
    SELECT 1 FROM reports r
    WHERE r.comment_id = comments.id AND r.resolved_at IS NULL)
"""
DECISIONS_FROM_HELD = """
UPDATE decisions SET queued_at = COALESCE(
    (SELECT max(h.created_at) FROM decisions h
     WHERE h.comment_id = decisions.comment_id AND h.to_status = 'held'
       AND h.created_at <= decisions.created_at AND h.id <> decisions.id),
    (SELECT COALESCE(c.screened_at, c.created_at) FROM comments c
     WHERE c.id = decisions.comment_id))
WHERE decisions.moderator_id IS NOT NULL AND decisions.from_status = 'held'
"""


def upgrade():
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('queued_at', sa.DateTime(), nullable=True))
    with op.batch_alter_table('decisions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('queued_at', sa.DateTime(), nullable=True))
    op.execute(HELD_COMMENTS)
    op.execute(REPORTED_COMMENTS)
    op.execute(DECISIONS_FROM_HELD)


def downgrade():
    with op.batch_alter_table('decisions', schema=None) as batch_op:
        batch_op.drop_column('queued_at')
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.drop_column('queued_at')
