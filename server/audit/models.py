"""The audit log for changes other than visits (villages, users, reports, balances)."""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import JSON, ForeignKey, Index, Integer, String
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .. import clock
from ..db_types import UTCDateTime, utcnow
from ..extensions import db

if TYPE_CHECKING:
    from ..auth.models import User


def append_only(model):
    """Make a model's rows append-only for the ORM: changing or deleting one raises.

    The audit trail is evidence for the evaluation meeting; no endpoint may rewrite it, and a
    bug that tried would fail loudly instead of quietly editing history.
    """
    def refuse(_mapper, _connection, target):
        raise RuntimeError(f"{type(target).__name__} rows are append-only")
    sa_event.listen(model, "before_update", refuse)
    sa_event.listen(model, "before_delete", refuse)
    return model


@append_only
class AuditEvent(db.Model):
    """Who changed which object, when, and how (append-only)."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_entity", "entity", "entity_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    entity: Mapped[str] = mapped_column(String(32))
    entity_key: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    changes: Mapped[dict] = mapped_column(JSON, default=dict)

    actor: Mapped[User | None] = relationship(viewonly=True)  # None: the server


def record(actor_id: int | None, entity: str, key, action: str, changes: dict | None = None, *,
           at: datetime | None = None):
    """Add an audit event to the session, at ``at`` (the clock's time when not given); the
    request's commit point commits it with the change it records."""
    event = AuditEvent(actor_id=actor_id, at=at or clock.now(), entity=entity,
                       entity_key=str(key), action=action, changes=changes or {})
    db.session.add(event)
    return event
