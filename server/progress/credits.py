"""Keeping ``day_credits`` and ``month_credits`` equal to what the visits say.

Every flush that creates or changes a closed visit notes the person and the local dates it
spans; just before the commit those dates are recomputed from the person's counting visits,
so the credits change in the same transaction as the visits, whichever code path wrote them.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

from flask_sqlalchemy.session import Session
from sqlalchemy import delete, event, func, insert, inspect, select

from ..auth.models import User
from ..clock import local_date, local_day_bounds, zone
from ..compliance.crediting import Stay, credit_for, seconds_by_date
from ..extensions import db
from ..rulebooks import rulebook_for
from ..visits.models import COUNTING_STATUSES, Visit
from .models import DayCredit, MonthCredit

SPANS_KEY = "zaicun_credit_spans"


def _widen(spans: dict, user_id: int, first: date, last: date) -> None:
    old = spans.get(user_id)
    spans[user_id] = (min(first, old[0]), max(last, old[1])) if old else (first, last)


def _visit_changed(visit: Visit) -> bool:
    state = inspect(visit)
    if state.pending:
        return True
    return any(state.attrs[name].history.has_changes()
               for name in ("status", "check_in_at", "check_out_at"))


@event.listens_for(Session, "before_flush")
def _note_changed_visits(session, _flush_context, _instances) -> None:
    spans = session.info.setdefault(SPANS_KEY, {})
    for obj in list(session.new) + list(session.dirty):
        if isinstance(obj, Visit) and obj.check_out_at is not None and _visit_changed(obj):
            _widen(spans, obj.user_id, local_date(obj.check_in_at), local_date(obj.check_out_at))


@event.listens_for(Session, "before_commit")
def _refresh_noted_credits(session) -> None:
    session.flush()
    spans = session.info.pop(SPANS_KEY, {})
    for user_id, (first, last) in spans.items():
        refresh(user_id, first, last)
    if spans:
        session.flush()
        session.info.pop(SPANS_KEY, None)


@event.listens_for(Session, "after_rollback")
def _forget_noted_credits(session) -> None:
    session.info.pop(SPANS_KEY, None)


def counting_stays(user_id: int, first: date, last: date) -> list[Stay]:
    """The person's counting stays that touch the local dates first..last."""
    start, end = local_day_bounds(first, last)
    rows = db.session.execute(select(Visit.check_in_at, Visit.check_out_at).where(
        Visit.user_id == user_id, Visit.status.in_(COUNTING_STATUSES),
        Visit.check_out_at.is_not(None), Visit.check_in_at < end, Visit.check_out_at > start))
    return [Stay(a, b) for a, b in rows]


def _thresholds(user_id: int):
    return rulebook_for(db.session.get(User, user_id)).thresholds


def refresh(user_id: int, first: date, last: date) -> None:
    """Recompute the person's credits for the whole months around first..last, with the
    running totals of each month and of each year they touch."""
    first, last = first.replace(day=1), _month_after(last.replace(day=1)) - timedelta(days=1)
    thresholds = _thresholds(user_id)
    seconds = seconds_by_date(counting_stays(user_id, first, last), zone())
    db.session.execute(delete(DayCredit).where(
        DayCredit.user_id == user_id, DayCredit.day.between(first, last)))
    rows, month, running = [], None, [0, 0]
    for day, s in sorted(seconds.items()):
        if not first <= day <= last or s <= 0:
            continue
        if day.replace(day=1) != month:
            month, running = day.replace(day=1), [0, 0]
        halves = int(credit_for(s, thresholds) * 2)
        running = [running[0] + s, running[1] + halves]
        rows.append({"user_id": user_id, "day": day, "seconds": s, "halves": halves,
                     "month_seconds_to_date": running[0], "month_halves_to_date": running[1]})
    if rows:
        db.session.execute(insert(DayCredit), rows)
    for year in range(first.year, last.year + 1):
        _refresh_months(user_id, year)


def _refresh_months(user_id: int, year: int) -> None:
    """Rewrite the year's twelve month rows (sums and running totals) from its day rows.

    Every month of a year with any credit has a row, months without credit included, so the
    running total through any month is one row away.
    """
    start, end = date(year, 1, 1), date(year, 12, 31)
    db.session.execute(delete(MonthCredit).where(
        MonthCredit.user_id == user_id, MonthCredit.month.between(start, end)))
    rows = dense_month_rows(user_id, year, db.session.execute(
        select(DayCredit.day, DayCredit.seconds, DayCredit.halves).where(
            DayCredit.user_id == user_id, DayCredit.day.between(start, end))))
    if rows:
        db.session.execute(insert(MonthCredit), rows)


def dense_month_rows(user_id: int, year: int, day_rows) -> list[dict]:
    """Twelve month rows with sums and running totals from (day, seconds, halves) rows;
    none when there are no day rows."""
    sums = [[0, 0] for _ in range(12)]
    seen = False
    for day, seconds, halves in day_rows:
        sums[day.month - 1][0] += seconds
        sums[day.month - 1][1] += halves
        seen = True
    if not seen:
        return []
    rows, running = [], [0, 0]
    for index, (seconds, halves) in enumerate(sums):
        running = [running[0] + seconds, running[1] + halves]
        rows.append({"user_id": user_id, "month": date(year, index + 1, 1), "seconds": seconds,
                     "halves": halves, "year_seconds_to_date": running[0],
                     "year_halves_to_date": running[1]})
    return rows


def _month_after(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def recompute_all(user_ids: Iterable[int], progress=None) -> None:
    """Rebuild every credit of these people from their visits (``recompute-credits``)."""
    for user_id in user_ids:
        span = db.session.execute(select(func.min(Visit.check_in_at), func.max(Visit.check_out_at))
                                  .where(Visit.user_id == user_id)).one()
        db.session.execute(delete(DayCredit).where(DayCredit.user_id == user_id))
        db.session.execute(delete(MonthCredit).where(MonthCredit.user_id == user_id))
        if span[0] is not None and span[1] is not None:
            refresh(user_id, local_date(span[0]), local_date(span[1]))
        if progress is not None:
            progress(user_id)
    db.session.commit()
