"""Handle identity: a normalised key (case, spacing, punctuation, confusables).

Adds comments.handle_key, and fills it in for every comment. Re-keys what was
stored by lower-cased handle: handles.handle (widened to the key's 64 characters)
and the value of every handle ban. Two handles rows of one site whose handles now
share a key ("SneakyS" and "Sneaky S") become one, with the strictest standing of
the two: pre-moderated if either was; trust untrusted over auto over trusted (a
merge never makes anyone more trusted); the row with the lowest id is kept.

The key is `moderation.screening.handles.handle_key`, imported rather than copied
here, so that a database migrated today and one migrated later both hold the keys
that the running code computes.

Downgrade drops handle_key and narrows handles.handle back to 40 characters
(settings whose key is longer are dropped). The re-keying itself is not undone:
the handles and ban values keep their keys, which the old code reads as lower-cased
handles; only handles that differed in more than case no longer match.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 00:10:00

"""
from alembic import op
import sqlalchemy as sa

from moderation.screening.handles import handle_key

# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

comments = sa.table(
    'comments',
    sa.column('handle', sa.String),
    sa.column('handle_key', sa.String),
)
handles = sa.table(
    'handles',
    sa.column('id', sa.Integer),
    sa.column('site_id', sa.Integer),
    sa.column('handle', sa.String),
    sa.column('premoderate', sa.Boolean),
    sa.column('trust', sa.String),
    sa.column('updated_at', sa.DateTime),
)
bans = sa.table(
    'bans',
    sa.column('id', sa.Integer),
    sa.column('kind', sa.String),
    sa.column('value', sa.String),
)
# Strictest first: a merge keeps the lowest rank.
TRUST_RANK = {'untrusted': 0, 'auto': 1, 'trusted': 2}


def upgrade():
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('handle_key', sa.String(length=64), nullable=True))
        batch_op.create_index('ix_comments_handle_key_created', ['handle_key', 'created_at'], unique=False)
    with op.batch_alter_table('handles', schema=None) as batch_op:
        batch_op.alter_column('handle', existing_type=sa.String(length=40), type_=sa.String(length=64), existing_nullable=False)
    connection = op.get_bind()
    _key_comments(connection)
    _key_handles(connection)
    _key_bans(connection)


def _key_comments(connection):
    """Every comment's handle_key: one UPDATE per distinct handle (its index serves)."""
    spellings = connection.execute(sa.select(comments.c.handle).distinct()).scalars().all()
    update = (
        comments.update()
        .where(comments.c.handle == sa.bindparam('spelled'))
        .values(handle_key=sa.bindparam('key'))
    )
    rows = [{'spelled': h, 'key': handle_key(h)} for h in spellings if h is not None]
    for start in range(0, len(rows), 1000):
        connection.execute(update, rows[start:start + 1000])


def _key_handles(connection):
    """handles.handle to the key; rows of one site sharing a key merged, strictest."""
    groups = {}
    for row in connection.execute(sa.select(handles).order_by(handles.c.id)):
        groups.setdefault((row.site_id, handle_key(row.handle)), []).append(row)
    merged, renamed, gone = [], [], []
    for (_, key), rows in groups.items():
        kept, others = rows[0], rows[1:]
        if others:
            gone.extend(r.id for r in others)
            merged.append({
                'row_id': kept.id,
                'strict_premoderate': any(r.premoderate for r in rows),
                'strict_trust': min((r.trust for r in rows), key=TRUST_RANK.__getitem__),
                'last_updated': max(r.updated_at for r in rows),
            })
        if kept.handle != key:
            renamed.append({'row_id': kept.id, 'key': key})
    if gone:
        connection.execute(handles.delete().where(handles.c.id.in_(gone)))
    if merged:
        connection.execute(
            handles.update()
            .where(handles.c.id == sa.bindparam('row_id'))
            .values(
                premoderate=sa.bindparam('strict_premoderate'),
                trust=sa.bindparam('strict_trust'),
                updated_at=sa.bindparam('last_updated'),
            ),
            merged,
        )
    if renamed:
        by_id = handles.update().where(handles.c.id == sa.bindparam('row_id'))
        # Through a placeholder first (a key never holds a space): a row's new key
        # may still be another row's old handle until that row is renamed too.
        connection.execute(
            by_id.values(handle=sa.literal(' ') + sa.cast(handles.c.id, sa.String)),
            [{'row_id': r['row_id']} for r in renamed],
        )
        connection.execute(by_id.values(handle=sa.bindparam('key')), renamed)


def _key_bans(connection):
    """Each handle ban's value to the key of the handle it names."""
    rows = connection.execute(
        sa.select(bans.c.id, bans.c.value).where(bans.c.kind == 'handle')
    ).all()
    changed = [
        {'ban_id': r.id, 'key': handle_key(r.value)}
        for r in rows
        if handle_key(r.value) != r.value
    ]
    if changed:
        connection.execute(
            bans.update()
            .where(bans.c.id == sa.bindparam('ban_id'))
            .values(value=sa.bindparam('key')),
            changed,
        )


def downgrade():
    op.execute(handles.delete().where(sa.func.length(handles.c.handle) > 40))
    with op.batch_alter_table('handles', schema=None) as batch_op:
        batch_op.alter_column('handle', existing_type=sa.String(length=64), type_=sa.String(length=40), existing_nullable=False)
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.drop_index('ix_comments_handle_key_created')
        batch_op.drop_column('handle_key')
