"""The reader's thread: featured comments, staff replies, reactions, the nudge.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 00:15:00

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('sites', schema=None) as batch_op:
        batch_op.add_column(sa.Column('nudge', sa.Boolean(), server_default=sa.false(), nullable=False))
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('featured_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('featured_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('staff_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('like_count', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('nudge', sa.String(length=16), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_comments_featured_by_id_moderators'), 'moderators', ['featured_by_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_comments_staff_id_moderators'), 'moderators', ['staff_id'], ['id'])
        batch_op.create_index('ix_comments_thread_featured', ['thread_id', 'featured_at'], unique=False)
    op.create_table(
        'reactions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('comment_id', sa.Integer(), nullable=False),
        sa.Column('network_key', sa.String(length=40), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['comment_id'], ['comments.id'], name=op.f('fk_reactions_comment_id_comments')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_reactions')),
        sa.UniqueConstraint('comment_id', 'network_key', name=op.f('uq_reactions_comment_id_network_key')),
    )
    with op.batch_alter_table('reactions', schema=None) as batch_op:
        batch_op.create_index('ix_reactions_network_created', ['network_key', 'created_at'], unique=False)


def downgrade():
    with op.batch_alter_table('reactions', schema=None) as batch_op:
        batch_op.drop_index('ix_reactions_network_created')
    op.drop_table('reactions')
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.drop_index('ix_comments_thread_featured')
        batch_op.drop_constraint(batch_op.f('fk_comments_staff_id_moderators'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_comments_featured_by_id_moderators'), type_='foreignkey')
        batch_op.drop_column('nudge')
        batch_op.drop_column('like_count')
        batch_op.drop_column('staff_id')
        batch_op.drop_column('featured_by_id')
        batch_op.drop_column('featured_at')
    with op.batch_alter_table('sites', schema=None) as batch_op:
        batch_op.drop_column('nudge')
