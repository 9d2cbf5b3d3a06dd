"""Units (province … township), villages and the villages linked to a person."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Float, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db_types import UTCDateTime, utcnow
from ..extensions import db

UNIT_LEVELS = ("province", "city", "county", "township")


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


class LinkedVillage(db.Model):
    """A village a person is linked to (包村)."""

    __tablename__ = "linked_villages"
    __table_args__ = (UniqueConstraint("user_id", "village_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    village_id: Mapped[int] = mapped_column(ForeignKey("villages.id"), index=True)
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    village: Mapped[Village] = relationship()
