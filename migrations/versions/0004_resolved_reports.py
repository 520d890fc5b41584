"""Reports are resolved when a moderator decides their comment.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 16:40:00

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.add_column(sa.Column('resolved_at', sa.DateTime(), nullable=True))
        batch_op.create_index('ix_reports_open', ['resolved_at', 'comment_id'], unique=False)


def downgrade():
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.drop_index('ix_reports_open')
        batch_op.drop_column('resolved_at')
