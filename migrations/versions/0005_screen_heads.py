"""Site-adapted screen heads, learnt from each site's moderators' decisions.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 10:00:00

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'screen_heads',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('site_id', sa.Integer(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('examples', sa.Integer(), nullable=False),
        sa.Column('positives', sa.Integer(), nullable=False),
        sa.Column('metrics', sa.JSON(), nullable=False),
        sa.Column('head', sa.Text(), nullable=True),
        sa.Column('status', sa.Enum('candidate', 'active', 'rejected', 'retired', name='screen_head_status', native_enum=False, create_constraint=True, length=16), nullable=False),
        sa.Column('created_by', sa.String(length=254), nullable=False),
        sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_screen_heads_site_id_sites')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_screen_heads')),
        sa.UniqueConstraint('site_id', 'version', name=op.f('uq_screen_heads_site_id_version')),
    )


def downgrade():
    op.drop_table('screen_heads')
