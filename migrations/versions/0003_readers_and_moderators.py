"""Readers and moderators: reports, edits, bans, handles, roles, audit, API tokens.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 15:30:00

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

OLD_STATUSES = ("received", "held", "published", "rejected")
NEW_STATUSES = (*OLD_STATUSES, "deleted")


def _status_check(column, statuses):
    values = ", ".join(f"'{s}'" for s in statuses)
    return f"{column} IN ({values})"


def _swap_status_checks(statuses):
    """Re-create the status CHECK constraints to admit `statuses`."""
    with op.batch_alter_table('comments', schema=None) as batch_op:
        name = op.f('ck_comments_comment_status')
        batch_op.drop_constraint(name, type_='check')
        batch_op.create_check_constraint(name, _status_check('status', statuses))
    with op.batch_alter_table('decisions', schema=None) as batch_op:
        for name, column in (
            ('ck_decisions_decision_from_status', 'from_status'),
            ('ck_decisions_decision_to_status', 'to_status'),
        ):
            batch_op.drop_constraint(op.f(name), type_='check')
            batch_op.create_check_constraint(
                op.f(name), _status_check(column, statuses)
            )


def upgrade():
    _swap_status_checks(NEW_STATUSES)

    with op.batch_alter_table('sites', schema=None) as batch_op:
        batch_op.add_column(sa.Column('report_threshold', sa.Integer(), server_default='3', nullable=False))
        batch_op.add_column(sa.Column('trust_after', sa.Integer(), server_default='5', nullable=False))
        batch_op.add_column(sa.Column('edit_window_minutes', sa.Integer(), server_default='15', nullable=False))
        batch_op.add_column(sa.Column('surge_window_minutes', sa.Integer(), server_default='10', nullable=False))
        batch_op.add_column(sa.Column('surge_max_comments', sa.Integer(), server_default='200', nullable=False))
        batch_op.add_column(sa.Column('surge_held_rate', sa.Float(), server_default='0.6', nullable=False))
        batch_op.add_column(sa.Column('revision', sa.Integer(), server_default='0', nullable=False))

    with op.batch_alter_table('threads', schema=None) as batch_op:
        batch_op.add_column(sa.Column('premoderate', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('surge_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('revision', sa.Integer(), server_default='0', nullable=False))

    with op.batch_alter_table('moderators', schema=None) as batch_op:
        batch_op.add_column(sa.Column('role', sa.Enum('admin', 'moderator', name='moderator_role', native_enum=False, create_constraint=True, length=16), server_default='moderator', nullable=False))
        batch_op.add_column(sa.Column('session_token', sa.String(length=32), server_default='', nullable=False))
    # Existing moderators get a session token each; the first of them is an admin.
    random_hex = (
        "lower(hex(randomblob(16)))"
        if op.get_bind().dialect.name == "sqlite"
        else "md5(random()::text || id::text)"
    )
    op.execute(f"UPDATE moderators SET session_token = {random_hex}")
    op.execute(
        "UPDATE moderators SET role = 'admin' "
        "WHERE id = (SELECT min(id) FROM moderators)"
    )

    op.create_table(
        'moderator_sites',
        sa.Column('moderator_id', sa.Integer(), nullable=False),
        sa.Column('site_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['moderator_id'], ['moderators.id'], name=op.f('fk_moderator_sites_moderator_id_moderators')),
        sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_moderator_sites_site_id_sites')),
        sa.PrimaryKeyConstraint('moderator_id', 'site_id', name=op.f('pk_moderator_sites')),
    )

    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('network_key', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('edited_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('report_count', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('review_moderator_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('review_until', sa.DateTime(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_comments_review_moderator_id_moderators'), 'moderators', ['review_moderator_id'], ['id'])
        batch_op.create_index('ix_comments_email_created', ['email', 'created_at'], unique=False)
        batch_op.create_index('ix_comments_handle_created', ['handle', 'created_at'], unique=False)
        batch_op.create_index('ix_comments_network_created', ['network_key', 'created_at'], unique=False)

    op.create_table(
        'reports',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('comment_id', sa.Integer(), nullable=False),
        sa.Column('reason', sa.Enum('abuse', 'spam', 'off-topic', 'other', name='report_reason', native_enum=False, create_constraint=True, length=16), nullable=False),
        sa.Column('text', sa.String(length=500), nullable=False),
        sa.Column('reporter_key', sa.String(length=40), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['comment_id'], ['comments.id'], name=op.f('fk_reports_comment_id_comments')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_reports')),
        sa.UniqueConstraint('comment_id', 'reporter_key', name=op.f('uq_reports_comment_id_reporter_key')),
    )
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reports_comment_id'), ['comment_id'], unique=False)

    op.create_table(
        'bans',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('site_id', sa.Integer(), nullable=True),
        sa.Column('kind', sa.Enum('handle', 'email', 'network', name='ban_kind', native_enum=False, create_constraint=True, length=16), nullable=False),
        sa.Column('value', sa.String(length=254), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('expires_at', sa.DateTime(), nullable=True),
        sa.Column('lifted_at', sa.DateTime(), nullable=True),
        sa.Column('lifted_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['created_by_id'], ['moderators.id'], name=op.f('fk_bans_created_by_id_moderators')),
        sa.ForeignKeyConstraint(['lifted_by_id'], ['moderators.id'], name=op.f('fk_bans_lifted_by_id_moderators')),
        sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_bans_site_id_sites')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_bans')),
    )
    with op.batch_alter_table('bans', schema=None) as batch_op:
        batch_op.create_index('ix_bans_kind_value', ['kind', 'value'], unique=False)

    op.create_table(
        'handles',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('site_id', sa.Integer(), nullable=False),
        sa.Column('handle', sa.String(length=40), nullable=False),
        sa.Column('premoderate', sa.Boolean(), nullable=False),
        sa.Column('trust', sa.Enum('auto', 'trusted', 'untrusted', name='handle_trust', native_enum=False, create_constraint=True, length=16), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_handles_site_id_sites')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_handles')),
        sa.UniqueConstraint('site_id', 'handle', name=op.f('uq_handles_site_id_handle')),
    )

    op.create_table(
        'audit_log',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('moderator_id', sa.Integer(), nullable=True),
        sa.Column('actor', sa.String(length=254), nullable=False),
        sa.Column('action', sa.String(length=40), nullable=False),
        sa.Column('site_id', sa.Integer(), nullable=True),
        sa.Column('target_type', sa.String(length=20), nullable=False),
        sa.Column('target_id', sa.String(length=64), nullable=False),
        sa.Column('before', sa.JSON(), nullable=True),
        sa.Column('after', sa.JSON(), nullable=True),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['moderator_id'], ['moderators.id'], name=op.f('fk_audit_log_moderator_id_moderators')),
        sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_audit_log_site_id_sites')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log')),
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index('ix_audit_log_created', ['created_at', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_log_action'), ['action'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_log_moderator_id'), ['moderator_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_log_site_id'), ['site_id'], unique=False)

    op.create_table(
        'api_tokens',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('moderator_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('prefix', sa.String(length=12), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('last_used_at', sa.DateTime(), nullable=True),
        sa.Column('revoked_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['moderator_id'], ['moderators.id'], name=op.f('fk_api_tokens_moderator_id_moderators')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_api_tokens_token_hash')),
    )


def downgrade():
    op.drop_table('api_tokens')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_log_site_id'))
        batch_op.drop_index(batch_op.f('ix_audit_log_moderator_id'))
        batch_op.drop_index(batch_op.f('ix_audit_log_action'))
        batch_op.drop_index('ix_audit_log_created')
    op.drop_table('audit_log')
    op.drop_table('handles')
    with op.batch_alter_table('bans', schema=None) as batch_op:
        batch_op.drop_index('ix_bans_kind_value')
    op.drop_table('bans')
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reports_comment_id'))
    op.drop_table('reports')

    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.drop_index('ix_comments_network_created')
        batch_op.drop_index('ix_comments_handle_created')
        batch_op.drop_index('ix_comments_email_created')
        batch_op.drop_constraint(batch_op.f('fk_comments_review_moderator_id_moderators'), type_='foreignkey')
        batch_op.drop_column('review_until')
        batch_op.drop_column('review_moderator_id')
        batch_op.drop_column('report_count')
        batch_op.drop_column('edited_at')
        batch_op.drop_column('network_key')

    op.drop_table('moderator_sites')
    with op.batch_alter_table('moderators', schema=None) as batch_op:
        batch_op.drop_column('session_token')
        # SQLite's rebuilt table would keep the CHECK on a column it no longer has.
        batch_op.drop_constraint(op.f('ck_moderators_moderator_role'), type_='check')
        batch_op.drop_column('role')
    with op.batch_alter_table('threads', schema=None) as batch_op:
        batch_op.drop_column('revision')
        batch_op.drop_column('surge_at')
        batch_op.drop_column('premoderate')
    with op.batch_alter_table('sites', schema=None) as batch_op:
        batch_op.drop_column('revision')
        batch_op.drop_column('surge_held_rate')
        batch_op.drop_column('surge_max_comments')
        batch_op.drop_column('surge_window_minutes')
        batch_op.drop_column('edit_window_minutes')
        batch_op.drop_column('trust_after')
        batch_op.drop_column('report_threshold')

    # Comments their authors deleted go back to rejected: the old schema has no
    # word for them, and rejected is never shown.
    op.execute("UPDATE comments SET status = 'rejected' WHERE status = 'deleted'")
    op.execute(
        "UPDATE decisions SET to_status = 'rejected' WHERE to_status = 'deleted'"
    )
    op.execute(
        "UPDATE decisions SET from_status = 'rejected' WHERE from_status = 'deleted'"
    )
    _swap_status_checks(OLD_STATUSES)
