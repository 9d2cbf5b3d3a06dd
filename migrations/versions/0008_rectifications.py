"""rectification items (整改) of the year-end evaluation, with their notes and decisions

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 09:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('rectifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('detail', sa.Text(), nullable=True),
    sa.Column('due', sa.Date(), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('open', 'in_progress', 'done_claimed', 'done')", name=op.f('ck_rectifications_status')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_rectifications_created_by_id_users')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_rectifications_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rectifications'))
    )
    with op.batch_alter_table('rectifications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rectifications_unit_id'), ['unit_id'], unique=False)

    op.create_table('rectification_notes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.String(length=36), nullable=True),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('request_digest', sa.String(length=64), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('note', 'claim', 'confirm', 'send_back')", name=op.f('ck_rectification_notes_kind')),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_rectification_notes_author_id_users')),
    sa.ForeignKeyConstraint(['item_id'], ['rectifications.id'], name=op.f('fk_rectification_notes_item_id_rectifications')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rectification_notes')),
    sa.UniqueConstraint('author_id', 'client_id', name=op.f('uq_rectification_notes_author_id_client_id'))
    )
    with op.batch_alter_table('rectification_notes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rectification_notes_item_id'), ['item_id'], unique=False)


def downgrade():
    with op.batch_alter_table('rectification_notes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rectification_notes_item_id'))
    op.drop_table('rectification_notes')
    with op.batch_alter_table('rectifications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rectifications_unit_id'))
    op.drop_table('rectifications')
