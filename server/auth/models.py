"""People, their login tokens and failed logins."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from ..clock import today
from ..db_types import UTCDateTime, utcnow
from ..extensions import db
from ..org.models import POST_ORDER, InUnit, LinkedVillage, Post, Unit
from .usernames import username_key

ROLES = ("cadre", "secretary", "supervisor", "admin")
FIELD_ROLES = ("cadre", "secretary")  # people who visit villages


class User(InUnit, db.Model):
    """A person who logs in: a cadre, secretary, supervisor or admin.

    ``role``, ``unit``, ``active_from`` and ``active_until`` sum up the person's posts
    (``server/org/posts.py`` keeps them): the role and unit of the post in effect, the first
    post's start and the last post's end. Anything that depends on a date asks the posts.
    """

    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("role IN ('cadre', 'secretary', 'supervisor', 'admin')", name="role"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    # What usernames are unique by and logged in with (``usernames.username_key``).
    username_key: Mapped[str] = mapped_column(String(200), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(12))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    active_from: Mapped[date | None] = mapped_column(Date)
    active_until: Mapped[date | None] = mapped_column(Date)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # More than one post: results, roll-ups and scope must look at the posts by date.
    several_posts: Mapped[bool] = mapped_column(Boolean, default=False)
    # The next date on which the post in effect changes (the summary is then made again).
    post_changes_on: Mapped[date | None] = mapped_column(Date)

    unit: Mapped[Unit | None] = relationship()
    links: Mapped[list[LinkedVillage]] = relationship(
        cascade="all, delete-orphan", order_by=LinkedVillage.id
    )
    posts: Mapped[list[Post]] = relationship(
        cascade="all, delete-orphan", order_by=POST_ORDER
    )

    @validates("username")
    def _keyed(self, _attribute: str, username: str) -> str:
        self.username_key = username_key(username)
        return username

    def links_on(self, day: date) -> list[LinkedVillage]:
        return [link for link in self.links if link.in_force_on(day)]

    @property
    def linked_villages(self):
        """The villages linked to the person today."""
        return [link.village for link in self.links_on(today())]

    @property
    def linked_village_codes(self) -> list[str]:
        return [village.code for village in self.linked_villages]

    def post_on(self, day: date) -> Post | None:
        return next((post for post in self.posts if post.in_force_on(day)), None)


class AuthToken(db.Model):
    """A bearer token; only its SHA-256 digest is stored, so a dump yields no usable token."""

    __tablename__ = "auth_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


class LoginAttempt(db.Model):
    """A login attempt, kept for throttling when no Redis is configured."""

    __tablename__ = "login_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(200), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
