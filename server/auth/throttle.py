"""Counting login attempts in a sliding window, in the database or in Redis.

The database store needs nothing extra and is shared by every process using the same
database; Redis (``ZAICUN_RATELIMIT_STORAGE_URL``) spares the database the writes.
"""
from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select

from ..extensions import db
from .models import LoginAttempt


class DatabaseAttempts:
    """Attempts as rows of ``login_attempts``; the caller's transaction commits them."""

    def hit(self, key: str, now: datetime, keep_s: int) -> None:
        db.session.execute(delete(LoginAttempt).where(
            LoginAttempt.key == key, LoginAttempt.at < now - timedelta(seconds=keep_s)))
        db.session.add(LoginAttempt(key=key, at=now))
        db.session.flush()

    def since(self, key: str, since: datetime) -> tuple[int, datetime | None]:
        """Return how many attempts since ``since`` and the latest one."""
        count, latest = db.session.execute(
            select(func.count(LoginAttempt.id), func.max(LoginAttempt.at))
            .where(LoginAttempt.key == key, LoginAttempt.at >= since)).one()
        return count, latest

    def clear(self, key: str) -> None:
        db.session.execute(delete(LoginAttempt).where(LoginAttempt.key == key))


class RedisAttempts:
    """Attempts as members of a sorted set per key, scored by time."""

    def __init__(self, url: str, prefix: str = "zaicun:"):
        import redis
        self.redis = redis.Redis.from_url(url, socket_timeout=2)
        self.prefix = prefix

    def hit(self, key: str, now: datetime, keep_s: int) -> None:
        ts, name = now.timestamp(), self.prefix + key
        pipe = self.redis.pipeline()
        pipe.zadd(name, {f"{ts}:{uuid.uuid4().hex}": ts})
        pipe.zremrangebyscore(name, "-inf", ts - keep_s)
        pipe.expire(name, keep_s)
        pipe.execute()

    def since(self, key: str, since: datetime) -> tuple[int, datetime | None]:
        members = self.redis.zrangebyscore(self.prefix + key, since.timestamp(), "+inf",
                                           withscores=True)
        if not members:
            return 0, None
        latest = max(score for _, score in members)
        return len(members), datetime.fromtimestamp(latest, tz=UTC)

    def clear(self, key: str) -> None:
        self.redis.delete(self.prefix + key)


def attempts_store(config) -> DatabaseAttempts | RedisAttempts:
    """Return the store the configuration names."""
    url = config.get("RATELIMIT_STORAGE_URL")
    if url and url.startswith(("redis://", "rediss://", "unix://")):
        return RedisAttempts(url, config.get("RATELIMIT_KEY_PREFIX") or "zaicun:")
    return DatabaseAttempts()
