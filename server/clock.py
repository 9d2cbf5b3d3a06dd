"""The one clock: what time it is, and which local day it is where the service runs.

Everything that asks the time asks here, so that a test or a simulation can set it
(``frozen_at``) and the services then work on that time exactly as on the real one. Times are
UTC and aware; local days are in the deployment's time zone (``ZAICUN_TIMEZONE``).
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context

DEFAULT_ZONE = "Asia/Shanghai"
_frozen: ContextVar[datetime | None] = ContextVar("zaicun_frozen_now", default=None)


def now() -> datetime:
    """The current time, aware, in UTC (the frozen one while ``frozen_at`` holds)."""
    moment = _frozen.get()
    return moment if moment is not None else datetime.now(UTC)


@contextmanager
def frozen_at(moment: datetime) -> Iterator[None]:
    """Make ``now()`` answer ``moment`` (aware) inside the block, in this context only."""
    if moment.tzinfo is None:
        raise ValueError("a frozen time must carry its offset")
    token = _frozen.set(moment.astimezone(UTC))
    try:
        yield
    finally:
        _frozen.reset(token)


def zone() -> ZoneInfo:
    """The deployment's time zone."""
    name = current_app.config["TIMEZONE"] if has_app_context() else DEFAULT_ZONE
    return ZoneInfo(name)


def local_date(moment: datetime) -> date:
    """The local day a moment falls on."""
    return moment.astimezone(zone()).date()


def today() -> date:
    """Today, as a local day."""
    return local_date(now())


def local_day_bounds(first: date | None,
                     last: date | None) -> tuple[datetime | None, datetime | None]:
    """UTC bounds for local dates ``first``..``last`` inclusive (None leaves a side open)."""
    tz = zone()
    start = datetime.combine(first, time(0), tz) if first else None
    end = datetime.combine(last + timedelta(days=1), time(0), tz) if last else None
    return start, end
