"""people over time: posts (unit, role, from, until) and dated links to villages

Every person's unit, role and active dates become their one post, and every link a link
with no start and no end, so that every result stays as it was (tests/test_migrations.py).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 08:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('posts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('role', sa.String(length=12), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=True),
    sa.Column('ends_on', sa.Date(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("role IN ('cadre', 'secretary', 'supervisor', 'admin')", name=op.f('ck_posts_role')),
    sa.CheckConstraint('starts_on IS NULL OR ends_on IS NULL OR ends_on >= starts_on', name=op.f('ck_posts_dates')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_posts_unit_id_units')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_posts_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_posts'))
    )
    with op.batch_alter_table('posts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_posts_unit_id'), ['unit_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_posts_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('several_posts', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
        batch_op.add_column(sa.Column('post_changes_on', sa.Date(), nullable=True))

    with op.batch_alter_table('linked_villages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('starts_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('ends_on', sa.Date(), nullable=True))
        batch_op.drop_constraint(batch_op.f('uq_linked_villages_user_id_village_id'), type_='unique')
        batch_op.create_check_constraint(
            op.f('ck_linked_villages_dates'),
            'starts_on IS NULL OR ends_on IS NULL OR ends_on >= starts_on')

    # Each person's one post: their unit, role and active dates as they were. A person whose
    # dates were given ahead of time keeps no ``post_changes_on``: with one post, the post in
    # effect never changes.
    op.execute(
        "INSERT INTO posts (user_id, unit_id, role, starts_on, ends_on, created_at) "
        "SELECT id, unit_id, role, active_from, active_until, created_at FROM users")


def downgrade():
    # Links that have ended go (the table then holds one link per person and village again).
    op.execute("DELETE FROM linked_villages WHERE ends_on IS NOT NULL")
    op.execute("DELETE FROM linked_villages WHERE id NOT IN (SELECT max_id FROM ("
               "SELECT MAX(id) AS max_id FROM linked_villages GROUP BY user_id, village_id) AS kept)")
    with op.batch_alter_table('linked_villages', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_linked_villages_dates'), type_='check')
        batch_op.create_unique_constraint(batch_op.f('uq_linked_villages_user_id_village_id'),
                                          ['user_id', 'village_id'])
        batch_op.drop_column('ends_on')
        batch_op.drop_column('starts_on')

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('post_changes_on')
        batch_op.drop_column('several_posts')

    with op.batch_alter_table('posts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_posts_user_id'))
        batch_op.drop_index(batch_op.f('ix_posts_unit_id'))

    op.drop_table('posts')
