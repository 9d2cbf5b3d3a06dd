"""Units (province … township), villages, the posts people hold in units and the villages
linked to a person — both dated (docs/rules.md §8)."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, Float, ForeignKey, Integer, String, and_, or_
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db_types import UTCDateTime, utcnow
from ..extensions import db

UNIT_LEVELS = ("province", "city", "county", "township")


class InUnit:
    """The code and name of the ``unit`` something belongs to (None without one)."""

    @property
    def unit_code(self) -> str | None:
        return self.unit.code if self.unit else None

    @property
    def unit_name(self) -> str | None:
        return self.unit.name if self.unit else None


def within(day: date, first: date | None, last: date | None) -> bool:
    """``first <= day <= last``, a missing end setting no limit."""
    return (first is None or first <= day) and (last is None or day <= last)


class Dated:
    """In force from ``starts_on`` through ``ends_on``, both included (None: no limit)."""

    def in_force_on(self, day: date) -> bool:
        return within(day, self.starts_on, self.ends_on)

    @classmethod
    def in_force(cls, day):
        """``in_force_on`` as SQL (``day``: a date or a column)."""
        return and_(or_(cls.starts_on.is_(None), cls.starts_on <= day),
                    or_(cls.ends_on.is_(None), cls.ends_on >= day))


class Unit(db.Model):
    """An administrative unit; ``path`` lists the codes from the root, for scope checks."""

    __tablename__ = "units"
    __table_args__ = (
        CheckConstraint("level IN ('province', 'city', 'county', 'township')", name="level"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    level: Mapped[str] = mapped_column(String(10))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    path: Mapped[str] = mapped_column(String(200), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    parent: Mapped[Unit | None] = relationship(remote_side=[id])

    @property
    def parent_code(self) -> str | None:
        return self.parent.code if self.parent else None

    def contains(self, other: Unit | None) -> bool:
        """Whether ``other`` is this unit or below it."""
        return other is not None and other.path.startswith(self.path)

    def county(self) -> Unit | None:
        """Return the county this unit is in (itself if it is one)."""
        unit: Unit | None = self
        while unit is not None and unit.level != "county":
            unit = unit.parent
        return unit


class Village(db.Model):
    """A village: a WGS-84 point and the radius within which a visit is inside it."""

    __tablename__ = "villages"
    __table_args__ = (
        CheckConstraint("radius_m > 0", name="radius_positive"),
        CheckConstraint("lat BETWEEN -90 AND 90 AND lon BETWEEN -180 AND 180", name="point_range"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(12), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    township_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    radius_m: Mapped[int] = mapped_column(Integer, default=1000)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    township: Mapped[Unit] = relationship()

    @property
    def township_code(self) -> str:
        return self.township.code


class LinkedVillage(Dated, db.Model):
    """A village linked to a person (包村) from ``starts_on`` through ``ends_on`` (inclusive;
    None: no limit). Ended links are kept, so coverage as of a past date uses the links valid
    then; a village may be linked again later (a new row)."""

    __tablename__ = "linked_villages"
    __table_args__ = (
        CheckConstraint("starts_on IS NULL OR ends_on IS NULL OR ends_on >= starts_on",
                        name="dates"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    village_id: Mapped[int] = mapped_column(ForeignKey("villages.id"), index=True)
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    starts_on: Mapped[date | None] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)

    village: Mapped[Village] = relationship()


class Post(Dated, InUnit, db.Model):
    """A post a person holds: a role in a unit from ``starts_on`` through ``ends_on``
    (inclusive; None: no limit). A person's posts never overlap (``server/org/posts.py``)."""

    __tablename__ = "posts"
    __table_args__ = (
        CheckConstraint("role IN ('cadre', 'secretary', 'supervisor', 'admin')", name="role"),
        CheckConstraint("starts_on IS NULL OR ends_on IS NULL OR ends_on >= starts_on",
                        name="dates"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    role: Mapped[str] = mapped_column(String(12))
    starts_on: Mapped[date | None] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    unit: Mapped[Unit | None] = relationship()


# A person's posts oldest first (one with no start before any other).
POST_ORDER = (Post.starts_on.is_not(None), Post.starts_on, Post.id)
