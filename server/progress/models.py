"""What compliance is computed from, kept beside the visits.

``day_credits`` and ``month_credits`` are derived from counting visits and kept up to date
in the same transaction as every change of a visit, so results never scan raw visits.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    SmallInteger,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..auth.models import User
from ..db_types import UTCDateTime, utcnow
from ..extensions import db

ABSENCE_KINDS = ("leave", "training", "official_duty")


class DayCredit(db.Model):
    """A person's merged in-village seconds and village-day credit (in halves) on a local date,
    and the running totals of the month through that date (so a sum to any date is one row)."""

    __tablename__ = "day_credits"
    __table_args__ = (
        CheckConstraint("halves BETWEEN 0 AND 2", name="halves"),
        Index("ix_day_credits_day", "day"),  # roll-ups read one month of every person
    )

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    seconds: Mapped[int] = mapped_column(Integer)
    halves: Mapped[int] = mapped_column(SmallInteger)
    month_seconds_to_date: Mapped[int] = mapped_column(Integer)
    month_halves_to_date: Mapped[int] = mapped_column(Integer)


class MonthCredit(db.Model):
    """A person's day credits summed over one month, and the running totals of the year
    through that month, for fast roll-ups."""

    __tablename__ = "month_credits"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    month: Mapped[date] = mapped_column(Date, primary_key=True)  # the 1st of the month
    seconds: Mapped[int] = mapped_column(Integer)
    halves: Mapped[int] = mapped_column(Integer)
    year_seconds_to_date: Mapped[int] = mapped_column(Integer)
    year_halves_to_date: Mapped[int] = mapped_column(Integer)


DEPLOYMENT_WIDE = ""  # the county_code of the calendar every county uses unless it has its own


class CalendarDay(db.Model):
    """An official holiday or make-up workday of a year an admin loaded: for one county, or
    (``county_code`` empty) for every county that did not load that year itself."""

    __tablename__ = "calendar_days"

    county_code: Mapped[str] = mapped_column(String(20), primary_key=True,
                                             default=DEPLOYMENT_WIDE)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    year: Mapped[int] = mapped_column(Integer, index=True)
    is_workday: Mapped[bool] = mapped_column(Boolean)


class Absence(db.Model):
    """Approved leave, training or official duty; with ``counts_as_village_work`` it credits."""

    __tablename__ = "absences"
    __table_args__ = (
        CheckConstraint("end_date >= start_date", name="ordered"),
        CheckConstraint("kind IN ('leave', 'training', 'official_duty')", name="kind"),
        CheckConstraint("status IN ('approved', 'withdrawn')", name="status"),
        Index("ix_absences_user_id_start_date", "user_id", "start_date"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(16))
    counts_as_village_work: Mapped[bool] = mapped_column(Boolean, default=False)
    note: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default="approved")
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(foreign_keys=[user_id])


class OpeningBalance(db.Model):
    """Village days and reports done in a year before the system existed (admin, audited)."""

    __tablename__ = "opening_balances"
    __table_args__ = (CheckConstraint("village_days >= 0 AND reports >= 0", name="positive"),)

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    village_days: Mapped[Decimal] = mapped_column(Numeric(7, 1))
    reports: Mapped[int] = mapped_column(Integer)
    note: Mapped[str | None] = mapped_column(Text)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
