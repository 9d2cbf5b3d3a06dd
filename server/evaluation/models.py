"""Rectification items (整改): the critique points a county records for a township after the
述职评议考核 meeting, and every note, claim and decision on them (nothing is deleted)."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..auth.models import User
from ..db_types import UTCDateTime, utcnow
from ..extensions import db
from ..org.models import InUnit, Unit

ITEM_STATUSES = ("open", "in_progress", "done_claimed", "done")
NOTE_KINDS = ("note", "claim", "confirm", "send_back")


class Rectification(InUnit, db.Model):
    """A critique point (点评问题) of ``year``'s meeting for a township, to be rectified."""

    __tablename__ = "rectifications"
    __table_args__ = (
        CheckConstraint("status IN ('open', 'in_progress', 'done_claimed', 'done')",
                        name="status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    detail: Mapped[str | None] = mapped_column(Text)
    due: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(12), default="open")
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    unit: Mapped[Unit] = relationship()
    notes: Mapped[list[RectificationNote]] = relationship(
        order_by="RectificationNote.id", back_populates="item")


class RectificationNote(db.Model):
    """A progress note, a claim that it is done, or a supervisor's decision; a phone's note is
    idempotent per author by ``client_id``."""

    __tablename__ = "rectification_notes"
    __table_args__ = (
        UniqueConstraint("author_id", "client_id"),
        CheckConstraint("kind IN ('note', 'claim', 'confirm', 'send_back')", name="kind"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("rectifications.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    client_id: Mapped[str | None] = mapped_column(String(36))
    kind: Mapped[str] = mapped_column(String(10))
    note: Mapped[str | None] = mapped_column(Text)
    request_digest: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    item: Mapped[Rectification] = relationship(back_populates="notes")
    author: Mapped[User] = relationship()
