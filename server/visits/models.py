"""Visits to villages and their audit trail."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    literal_column,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..audit.models import append_only
from ..auth.models import User
from ..db_types import UTCDateTime, utcnow
from ..extensions import db
from ..org.models import Village

VISIT_STATUSES = ("open", "verified", "pending_review", "approved", "rejected", "withdrawn")
COUNTING_STATUSES = ("verified", "approved")
# "The person's open visit" as queries must say it to use the partial index below: written
# into the SQL, not bound. A bound value deciding whether a partial index applies makes SQLite
# prepare the statement again on every run, which cost a check-in more than the query itself.
IS_OPEN = literal_column("'open'")


class Visit(db.Model):
    """One stay in one village, from check-in to check-out, with what the server found."""

    __tablename__ = "visits"
    __table_args__ = (
        UniqueConstraint("user_id", "client_id"),
        CheckConstraint(
            "status IN ('open', 'verified', 'pending_review', 'approved', 'rejected', 'withdrawn')",
            name="status",
        ),
        CheckConstraint("check_out_at IS NULL OR check_out_at >= check_in_at", name="out_after_in"),
        CheckConstraint("households IS NULL OR households >= 0", name="households_positive"),
        # At most one open visit per person, enforced by the database so racing posts cannot
        # both open one.
        Index("uq_visits_one_open_per_user", "user_id", unique=True,
              sqlite_where=text("status = 'open'"), postgresql_where=text("status = 'open'")),
        Index("ix_visits_user_id_check_in_at", "user_id", "check_in_at"),
        # the visit a check-in follows: the person's latest check-out before it
        Index("ix_visits_user_id_check_out_at", "user_id", "check_out_at", "id"),
        Index("ix_visits_status", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[str] = mapped_column(String(36))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    village_id: Mapped[int] = mapped_column(ForeignKey("villages.id"), index=True)
    activity: Mapped[str | None] = mapped_column(String(40))

    check_in_at: Mapped[datetime] = mapped_column(UTCDateTime)
    check_in_at_original: Mapped[datetime] = mapped_column(UTCDateTime)
    check_in_lat: Mapped[float | None] = mapped_column(Float)
    check_in_lon: Mapped[float | None] = mapped_column(Float)
    check_in_accuracy_m: Mapped[float | None] = mapped_column(Float)
    check_in_distance_m: Mapped[float | None] = mapped_column(Float)

    check_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    check_out_at_original: Mapped[datetime | None] = mapped_column(UTCDateTime)
    check_out_lat: Mapped[float | None] = mapped_column(Float)
    check_out_lon: Mapped[float | None] = mapped_column(Float)
    check_out_accuracy_m: Mapped[float | None] = mapped_column(Float)
    check_out_distance_m: Mapped[float | None] = mapped_column(Float)
    check_out_manual: Mapped[bool] = mapped_column(Boolean, default=False)
    check_out_received_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    households: Mapped[int | None] = mapped_column(Integer)
    note: Mapped[str | None] = mapped_column(Text)
    explanation: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="open")
    flags: Mapped[list] = mapped_column(JSON, default=list)
    clock_offset_s: Mapped[float | None] = mapped_column(Float)
    request_digest: Mapped[str] = mapped_column(String(64))
    check_out_digest: Mapped[str | None] = mapped_column(String(64))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    review_comment: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    village: Mapped[Village] = relationship()

    # Concurrent changes of one visit (two check-outs, two reviews) fail instead of both winning.
    __mapper_args__ = {"version_id_col": version}

    @property
    def counts(self) -> bool:
        return self.status in COUNTING_STATUSES

    @property
    def distance_m(self) -> float | None:
        known = [d for d in (self.check_in_distance_m, self.check_out_distance_m) if d is not None]
        return max(known) if known else None


@append_only
class VisitEvent(db.Model):
    """One entry of a visit's audit trail: who did what, when, and what changed."""

    __tablename__ = "visit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visits.id"), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # None: the server
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    action: Mapped[str] = mapped_column(String(32))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str | None] = mapped_column(String(16))
    changes: Mapped[dict] = mapped_column(JSON, default=dict)
    comment: Mapped[str | None] = mapped_column(Text)

    actor: Mapped[User | None] = relationship()
    visit: Mapped[Visit] = relationship()
