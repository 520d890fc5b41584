"""Server-side moderator sessions, login failures every process counts, erasure mode.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05 19:00:00

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('sites', schema=None) as batch_op:
        batch_op.add_column(sa.Column('erasure_mode', sa.String(length=16), server_default='redact', nullable=False))
    op.create_table(
        'moderator_sessions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('moderator_id', sa.Integer(), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['moderator_id'], ['moderators.id'], name=op.f('fk_moderator_sessions_moderator_id_moderators')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_moderator_sessions')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_moderator_sessions_token_hash')),
    )
    with op.batch_alter_table('moderator_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_moderator_sessions_moderator_id'), ['moderator_id'], unique=False)
    op.create_table(
        'login_failures',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('account_key', sa.String(length=64), nullable=False),
        sa.Column('failed_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_login_failures')),
    )
    with op.batch_alter_table('login_failures', schema=None) as batch_op:
        batch_op.create_index('ix_login_failures_account_failed', ['account_key', 'failed_at'], unique=False)


def downgrade():
    with op.batch_alter_table('login_failures', schema=None) as batch_op:
        batch_op.drop_index('ix_login_failures_account_failed')
    op.drop_table('login_failures')
    with op.batch_alter_table('moderator_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_moderator_sessions_moderator_id'))
    op.drop_table('moderator_sessions')
    with op.batch_alter_table('sites', schema=None) as batch_op:
        batch_op.drop_column('erasure_mode')
