"""usernames compared by one normalised key; a calendar per county beside the deployment's

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 08:30:00

"""
import hashlib
import unicodedata

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def _key(username):
    """``server.auth.usernames.username_key`` as of this revision (a migration never imports
    the app, whose rules may change after it)."""
    key = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", username).strip().casefold())
    if len(key) > 200:
        key = "sha256:" + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()
    return key


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('username_key', sa.String(length=200), nullable=True))
    bind = op.get_bind()
    users = sa.table('users', sa.column('id', sa.Integer), sa.column('username', sa.String),
                     sa.column('username_key', sa.String))
    keys = {}
    for user_id, username in bind.execute(sa.select(users.c.id, users.c.username)).all():
        key = _key(username)
        if key in keys:  # two accounts that differ only in case or width: a person must choose
            raise RuntimeError(f"usernames {keys[key]!r} and {username!r} are the same name once "
                               "normalised; rename one of them, then upgrade again")
        keys[key] = username
        bind.execute(users.update().where(users.c.id == user_id).values(username_key=key))
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.alter_column('username_key', existing_type=sa.String(length=200), nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_users_username_key'), ['username_key'])

    _rebuild_calendar(by_county=True)


def _rebuild_calendar(by_county: bool):
    """Copy the loaded calendar into a table keyed by (county, day), or back by day alone —
    then only the deployment-wide dates are kept: a county's own existed nowhere before."""
    keys = ('county_code', 'day') if by_county else ('day',)
    columns = [sa.Column('county_code', sa.String(length=20), nullable=False)] if by_county else []
    op.create_table('calendar_days_next', *columns,
                    sa.Column('day', sa.Date(), nullable=False),
                    sa.Column('year', sa.Integer(), nullable=False),
                    sa.Column('is_workday', sa.Boolean(), nullable=False),
                    sa.PrimaryKeyConstraint(*keys, name='pk_calendar_days_next'))
    if by_county:
        op.execute("INSERT INTO calendar_days_next (county_code, day, year, is_workday) "
                   "SELECT '', day, year, is_workday FROM calendar_days")
    else:
        op.execute("INSERT INTO calendar_days_next (day, year, is_workday) "
                   "SELECT day, year, is_workday FROM calendar_days WHERE county_code = ''")
    with op.batch_alter_table('calendar_days', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_calendar_days_year'))
    op.drop_table('calendar_days')
    op.rename_table('calendar_days_next', 'calendar_days')
    if op.get_bind().dialect.name == 'postgresql':  # SQLite keeps no constraint names
        op.execute('ALTER TABLE calendar_days RENAME CONSTRAINT pk_calendar_days_next '
                   'TO pk_calendar_days')
    with op.batch_alter_table('calendar_days', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_calendar_days_year'), ['year'], unique=False)


def downgrade():
    _rebuild_calendar(by_county=False)

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_users_username_key'), type_='unique')
        batch_op.drop_column('username_key')
