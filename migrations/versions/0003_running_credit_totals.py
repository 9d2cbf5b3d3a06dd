"""running totals in day and month credits, and an index by day, for fast roll-ups

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 03:06:45.443230

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


RUNNING = {"day_credits": (("month_seconds_to_date", "seconds"), ("month_halves_to_date", "halves")),
           "month_credits": (("year_seconds_to_date", "seconds"), ("year_halves_to_date", "halves"))}


def _fill_running_totals():
    """Credits already kept get their running totals: within the month for days, within the
    year for months (derived data, so it is computed here rather than asked of anyone)."""
    bind = op.get_bind()
    days = sa.table("day_credits", sa.column("user_id"), sa.column("day"), sa.column("seconds"),
                    sa.column("halves"), sa.column("month_seconds_to_date"),
                    sa.column("month_halves_to_date"))
    months = sa.table("month_credits", sa.column("user_id"), sa.column("month"),
                      sa.column("seconds"), sa.column("halves"),
                      sa.column("year_seconds_to_date"), sa.column("year_halves_to_date"))
    for table, key, group, names in (
            (days, "day", lambda d: (d.year, d.month), ("month_seconds_to_date",
                                                        "month_halves_to_date")),
            (months, "month", lambda d: d.year, ("year_seconds_to_date",
                                                 "year_halves_to_date"))):
        rows = bind.execute(sa.select(table.c.user_id, table.c[key], table.c.seconds,
                                      table.c.halves).order_by(table.c.user_id, table.c[key]))
        current, running = None, (0, 0)
        for user_id, when, seconds, halves in rows.fetchall():
            if (user_id, group(when)) != current:
                current, running = (user_id, group(when)), (0, 0)
            running = (running[0] + seconds, running[1] + halves)
            bind.execute(table.update().where(table.c.user_id == user_id, table.c[key] == when)
                         .values({names[0]: running[0], names[1]: running[1]}))


def upgrade():
    for table, columns in RUNNING.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name, _ in columns:
                batch_op.add_column(sa.Column(name, sa.Integer(), nullable=False,
                                              server_default="0"))
    _fill_running_totals()
    for table, columns in RUNNING.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name, _ in columns:
                batch_op.alter_column(name, server_default=None)
    with op.batch_alter_table('day_credits', schema=None) as batch_op:
        batch_op.create_index('ix_day_credits_day', ['day'], unique=False)


def downgrade():
    with op.batch_alter_table('day_credits', schema=None) as batch_op:
        batch_op.drop_index('ix_day_credits_day')
    for table, columns in RUNNING.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name, _ in columns:
                batch_op.drop_column(name)
