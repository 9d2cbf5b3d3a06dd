"""Column types shared by every model."""
from datetime import UTC, datetime

from sqlalchemy import DateTime, event
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import instance_state
from sqlalchemy.types import TypeDecorator

from . import clock


class UTCDateTime(TypeDecorator):
    """A timezone-aware timestamp stored in UTC; naive datetimes are refused.

    SQLite keeps no offset, so values read back are marked UTC here.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given for a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utcnow() -> datetime:
    """Return the current time, timezone-aware, in UTC (``server/clock.py``'s)."""
    return clock.now()


def core_rows(session: Session, statement, params: dict):
    """Run a Core ``statement`` in the session's transaction. Pending changes are flushed
    first, as an ORM query would autoflush them, so the rows include what the request wrote."""
    if session.autoflush:
        session.flush()  # nothing to do, and cheap, when the session holds no changes
    return session.connection().execute(statement, params)


def loaded(model: type, values: dict):
    """A detached ``model`` instance holding ``values`` (every column, keyed by attribute) as
    if a query had read them, built without the ORM's per-attribute bookkeeping.

    For rows read or written with Core on hot paths: the ORM builds its row processors anew
    on every query, which costs more than the query itself.
    """
    instance = model.__mapper__.class_manager.new_instance()
    instance_state(instance).dict.update(values)
    make_transient_to_detached(instance)
    return instance


def as_loaded(session: Session, model: type, values: dict):
    """Like ``loaded``, but in the session, as a query's result would be: changes to it are
    flushed and its relationships load lazily. An instance the session already holds wins."""
    mapper = model.__mapper__
    key = mapper.identity_key_from_primary_key([values[c.key] for c in mapper.primary_key])
    held = session.identity_map.get(key)
    if held is not None:
        return held
    instance = loaded(model, values)
    session.add(instance)
    return instance


def attach_loaded(session: Session, instance):
    """A detached instance from ``loaded`` put in the session as ``as_loaded`` puts one; an
    instance the session already holds under the same identity wins."""
    held = session.identity_map.get(instance_state(instance).key)
    if held is not None:
        return held
    session.add(instance)
    return instance


def attribute_keys(model: type, table) -> list[str]:
    """The model's attribute names for ``table``'s columns, in the table's order."""
    return [model.__mapper__.get_property_by_column(c).key for c in table.columns]


# --- what a transaction holds ------------------------------------------------------------

_HELD = "zaicun_held_locks"


def held_locks(session, kind: str) -> set:
    """The locks of ``kind`` this session's transaction holds (transaction-scoped advisory
    locks, by their second key), as recorded by those who took them; forgotten when any
    transaction of the session ends (a savepoint's too: a lock is then taken again, which
    costs a round trip and nothing else)."""
    return session.info.setdefault(_HELD, {}).setdefault(kind, set())


@event.listens_for(Session, "after_transaction_end")
def _forget_held_locks(session, _transaction) -> None:
    session.info.pop(_HELD, None)
