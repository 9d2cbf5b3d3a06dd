"""closing a year (封存): snapshots of a county's results, reopened ones kept

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 13:30:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('closings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('as_of', sa.Date(), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('people', sa.Integer(), nullable=False),
    sa.Column('snapshot', sa.Text(), nullable=False),
    sa.Column('snapshot_sha256', sa.String(length=64), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closed_by_id', sa.Integer(), nullable=True),
    sa.Column('reopened_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reopened_by_id', sa.Integer(), nullable=True),
    sa.Column('reopen_reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['closed_by_id'], ['users.id'], name=op.f('fk_closings_closed_by_id_users')),
    sa.ForeignKeyConstraint(['reopened_by_id'], ['users.id'], name=op.f('fk_closings_reopened_by_id_users')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_closings_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_closings'))
    )
    with op.batch_alter_table('closings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_closings_year'), ['year'], unique=False)
        batch_op.create_index('uq_closings_in_force', ['unit_id', 'year'], unique=True,
                              sqlite_where=sa.text('reopened_at IS NULL'),
                              postgresql_where=sa.text('reopened_at IS NULL'))


def downgrade():
    with op.batch_alter_table('closings', schema=None) as batch_op:
        batch_op.drop_index('uq_closings_in_force')
        batch_op.drop_index(batch_op.f('ix_closings_year'))
    op.drop_table('closings')
