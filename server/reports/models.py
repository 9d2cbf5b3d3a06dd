"""Thematic reports (专题汇报) a secretary gives the county committee."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..auth.models import User
from ..db_types import UTCDateTime, utcnow
from ..extensions import db

REPORT_STATUSES = ("submitted", "acknowledged", "rejected", "withdrawn")
REPORT_CATEGORIES = ("rural", "urban", "other")
COUNTING_STATUSES = ("submitted", "acknowledged")  # docs/rules.md §7


class ThematicReport(db.Model):
    """A report given on ``reported_on``; counts unless rejected or withdrawn."""

    __tablename__ = "thematic_reports"
    __table_args__ = (
        UniqueConstraint("created_by_id", "client_id"),
        CheckConstraint(
            "status IN ('submitted', 'acknowledged', 'rejected', 'withdrawn')", name="status"
        ),
        Index("ix_thematic_reports_user_id_reported_on", "user_id", "reported_on"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[str] = mapped_column(String(36))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reported_on: Mapped[date] = mapped_column(Date)
    title: Mapped[str] = mapped_column(String(200))
    category: Mapped[str | None] = mapped_column(String(10))
    summary: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="submitted")
    review_comment: Mapped[str | None] = mapped_column(Text)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    request_digest: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship(foreign_keys=[user_id])

    @property
    def counts(self) -> bool:
        """Whether the report counts toward the rule (docs/rules.md §7)."""
        return self.status in COUNTING_STATUSES
