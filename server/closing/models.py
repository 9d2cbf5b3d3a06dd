"""A year closed for a county: the snapshot of its results and who closed (and reopened) it.

Nothing is deleted: reopening marks the closing reopened; closing again adds a new row. At most
one closing of a county and year is in force (not reopened) at a time.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..auth.models import User
from ..db_types import UTCDateTime, utcnow
from ..extensions import db
from ..org.models import InUnit, Unit


class Closing(InUnit, db.Model):
    """Year ``year`` of the county ``unit`` closed at ``closed_at``; ``snapshot`` is the
    canonical JSON of every person's results as of ``as_of`` and ``snapshot_sha256`` its hash."""

    __tablename__ = "closings"
    __table_args__ = (
        Index("uq_closings_in_force", "unit_id", "year", unique=True,
              sqlite_where=text("reopened_at IS NULL"),
              postgresql_where=text("reopened_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    year: Mapped[int] = mapped_column(Integer, index=True)
    as_of: Mapped[date] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)
    people: Mapped[int] = mapped_column(Integer)
    snapshot: Mapped[str] = mapped_column(Text, deferred=True)
    snapshot_sha256: Mapped[str] = mapped_column(String(64))
    closed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reopened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reopened_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reopen_reason: Mapped[str | None] = mapped_column(Text)

    unit: Mapped[Unit] = relationship()
    closed_by: Mapped[User | None] = relationship(foreign_keys=[closed_by_id])
    reopened_by: Mapped[User | None] = relationship(foreign_keys=[reopened_by_id])

    @property
    def stamp(self) -> dict:
        """What results served from this closing carry (API.md: ``"closed"``)."""
        return {"closed_at": self.closed_at, "snapshot_sha256": self.snapshot_sha256}
