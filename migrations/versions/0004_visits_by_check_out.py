"""an index of each person's visits by check-out, for the visit a check-in follows

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 09:30:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.create_index('ix_visits_user_id_check_out_at', ['user_id', 'check_out_at', 'id'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.drop_index('ix_visits_user_id_check_out_at')
