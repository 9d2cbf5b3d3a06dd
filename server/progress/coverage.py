"""Linked-village coverage for a roll-up: how many of each person's linked villages they
visited in the year so far (``GET /compliance?include=coverage``).

Opt-in, so the default roll-up (the one benchmarked for a province) reads nothing more. It
counts as the ``linked_village_coverage`` metric does (RULES.md §1, §7): counting visits only
(``verified`` or ``approved`` — never open, pending, rejected or withdrawn ones), matched on
the check-in's local date within the person's active part of the year up to ``as_of``, to the
villages linked to the person on ``as_of`` (RULES.md §8).
"""
from __future__ import annotations

from collections import defaultdict
from datetime import date

from sqlalchemy import func, select

from ..clock import local_day_bounds
from ..extensions import db
from ..org.models import LinkedVillage
from ..org.posts import links_on
from ..visits.models import COUNTING_STATUSES, Visit

CHUNK = 500  # ids per IN list: well under every database's parameter limit


def linked_village_coverage(people, as_of: date) -> dict[int, dict]:
    """Per person id: ``{"visited": n, "linked": m}``; ``people`` are roll-up rows (with
    ``id``, ``active_from`` and ``active_until``)."""
    ids = [p.id for p in people]
    linked = _linked_counts(ids, as_of)
    visited: dict[int, int] = {}
    for (first, last), group in _by_window(people, as_of).items():
        visited.update(_visited_counts(group, first, last, as_of))
    return {pid: {"visited": visited.get(pid, 0), "linked": linked.get(pid, 0)} for pid in ids}


def _by_window(people, as_of: date) -> dict[tuple[date, date], list[int]]:
    """People grouped by the local dates their visits count between (most share one)."""
    windows: dict[tuple[date, date], list[int]] = defaultdict(list)
    for person in people:
        first = max(date(as_of.year, 1, 1), person.active_from or date.min)
        last = min(as_of, person.active_until or date.max)
        if first <= last:
            windows[(first, last)].append(person.id)
    return windows


def _chunks(ids: list[int]):
    for start in range(0, len(ids), CHUNK):
        yield ids[start:start + CHUNK]


def _linked_counts(ids: list[int], on: date) -> dict[int, int]:
    found: dict[int, int] = {}
    for chunk in _chunks(ids):
        found.update((uid, len(villages)) for uid, villages in links_on(chunk, on).items())
    return found


def _visited_counts(ids: list[int], first: date, last: date, on: date) -> dict[int, int]:
    """Villages linked on ``on`` with at least one counting visit checked in between the
    dates."""
    start, end = local_day_bounds(first, last)
    found: dict[int, int] = {}
    for chunk in _chunks(ids):
        found.update(db.session.execute(
            select(Visit.user_id, func.count(func.distinct(Visit.village_id)))
            .join(LinkedVillage, (LinkedVillage.user_id == Visit.user_id)
                  & (LinkedVillage.village_id == Visit.village_id)
                  & LinkedVillage.in_force(on))
            .where(Visit.user_id.in_(chunk), Visit.status.in_(COUNTING_STATUSES),
                   Visit.check_in_at >= start, Visit.check_in_at < end)
            .group_by(Visit.user_id)).all())
    return found
