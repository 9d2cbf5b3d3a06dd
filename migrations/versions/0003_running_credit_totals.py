"""running totals in day and month credits, and an index by day, for fast roll-ups

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 03:06:45.443230

"""
from datetime import date

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


RUNNING = {"day_credits": (("month_seconds_to_date", "seconds"), ("month_halves_to_date", "halves")),
           "month_credits": (("year_seconds_to_date", "seconds"), ("year_halves_to_date", "halves"))}


def _fill_running_totals():
    """Credits already kept get their running totals — within the month for days, within
    the year for months — and every month of a credited year gets a row (derived data, so
    it is computed here rather than asked of anyone)."""
    bind = op.get_bind()
    days = sa.table("day_credits", sa.column("user_id"), sa.column("day", sa.Date), sa.column("seconds"),
                    sa.column("halves"), sa.column("month_seconds_to_date"),
                    sa.column("month_halves_to_date"))
    months = sa.table("month_credits", sa.column("user_id"), sa.column("month", sa.Date),
                      sa.column("seconds"), sa.column("halves"),
                      sa.column("year_seconds_to_date"), sa.column("year_halves_to_date"))
    rows = bind.execute(sa.select(days.c.user_id, days.c.day, days.c.seconds, days.c.halves)
                        .order_by(days.c.user_id, days.c.day)).fetchall()
    current, running, years = None, (0, 0), {}
    for user_id, day, seconds, halves in rows:
        if (user_id, day.year, day.month) != current:
            current, running = (user_id, day.year, day.month), (0, 0)
        running = (running[0] + seconds, running[1] + halves)
        bind.execute(days.update().where(days.c.user_id == user_id, days.c.day == day)
                     .values(month_seconds_to_date=running[0], month_halves_to_date=running[1]))
        sums = years.setdefault((user_id, day.year), [[0, 0] for _ in range(12)])
        sums[day.month - 1][0] += seconds
        sums[day.month - 1][1] += halves
    bind.execute(months.delete())
    for (user_id, year), sums in years.items():
        total = (0, 0)
        for index, (seconds, halves) in enumerate(sums):
            total = (total[0] + seconds, total[1] + halves)
            bind.execute(months.insert().values(
                user_id=user_id, month=date(year, index + 1, 1), seconds=seconds, halves=halves,
                year_seconds_to_date=total[0], year_halves_to_date=total[1]))


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
