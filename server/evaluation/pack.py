"""The evaluation pack (述职评议考核, RULES.md §10): for a township and a year, the facts the
county judges at its meeting — the secretary first, then the team in pinyin order; for each
person their posts in the year, village days per month, the rule results, reports, linked-village
coverage, households, counting visits, flagged visits by outcome and absences by kind; and the
township's rectification items of the year before. As of 31 December, or today for the year
running. Facts only: no score, no rank.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal

from sqlalchemy import select

from .. import policy
from ..auth.models import User
from ..clock import local_day_bounds
from ..closing import services as closings
from ..extensions import db
from ..org.models import POST_ORDER, Post, Unit
from ..progress.coverage import linked_village_coverage
from ..progress.facts import county_code_of, working_calendar
from ..progress.models import Absence, DayCredit
from ..progress.rollup import rollup
from ..progress.schemas import ClosedSchema
from ..progress.services import check_year, resolve_as_of, result_dict
from ..reports.models import ThematicReport
from ..rulebooks import ruleset
from ..visits.models import COUNTING_STATUSES, Visit
from .rectifications import check_township, list_items, may_read

ABSENCE_KINDS = ("leave", "training", "official_duty")


def township_for_pack(actor: User, code: str) -> Unit:
    """The township named (its secretary, or a supervisor or admin in scope); 403 otherwise,
    an unknown code alike (a filter: existence does not leak); 422 for a unit in scope that
    is not a township."""
    unit = db.session.scalar(select(Unit).where(Unit.code == code))
    readable = unit is not None and (may_read(actor, unit) or (
        unit.level != "township" and actor.role in ("supervisor", "admin")
        and policy.in_scope(actor, unit)))
    policy.ensure(readable, "out_of_scope", {"unit_code": ["out of scope"]})
    check_township(unit)
    return unit


def evaluation_pack(actor: User, year: int, unit: Unit, english: bool = False) -> dict:
    """The pack as the API returns it (``GET /evaluations/<year>?unit_code=``)."""
    check_year(year)
    as_of = resolve_as_of(year, None)  # 31 December, or today for the year running
    frozen = closings.frozen_for(unit, year, as_of)
    if frozen is not None:
        as_of = frozen.as_of  # a year closed before its end: as of the closing day
    rows = rollup(actor, unit, as_of, ruleset())
    rows.sort(key=lambda row: row[0].role != "secretary")  # stable: pinyin order kept
    ids = [person.id for person, _ in rows]
    first = date(year, 1, 1)
    coverage = linked_village_coverage([person for person, _ in rows], as_of)
    months = _village_days_by_month(ids, first, as_of)
    visits = _visits(ids, first, as_of)
    reports = _reports(ids, first, as_of)
    absences = _absences(ids, first, as_of, working_calendar(county_code_of(unit)))
    posts = _posts(ids, first, as_of)
    people = []
    for person, results in rows:
        counted = visits.get(person.id, {})
        people.append({
            "user": person.summary(), "post_ended": person.post_ended,
            "posts": posts.get(person.id, []),
            "village_days_by_month": months.get(person.id, [Decimal(0)] * 12),
            "rules": [result_dict(r, english) for r in results],
            "reports": reports.get(person.id, []),
            "coverage": coverage[person.id],
            "households": counted.get("households", 0), "visits": counted.get("visits", 0),
            "flagged": {k: counted.get(k, 0) for k in ("approved", "rejected", "pending")},
            "absences": absences.get(person.id, dict.fromkeys(ABSENCE_KINDS, 0)),
        })
    return {"unit": {"code": unit.code, "name": unit.name,
                     "county": county_code_of(unit)},
            "year": year, "as_of": as_of, "people": people,
            "rectifications": [as_of_day(item, as_of)
                               for item in list_items(actor, unit.code, year - 1)]}


def freeze_pack(pack: dict, unit: Unit, english: bool) -> dict:
    """A pack (as dumped) of a closed year: each person's results are the snapshot's, and the
    pack carries the closing's stamp (RULES.md §9)."""
    frozen = closings.frozen_for(unit, pack["year"], date.fromisoformat(pack["as_of"]))
    if frozen is None:
        return pack
    titles = closings.english_titles(frozen) if english else None
    for person in pack["people"]:
        closing, row = closings.frozen_row([frozen], person["user"]["id"],
                                           person["user"]["unit_code"])
        if row is not None:
            person["rules"] = closings.frozen_rules(closing, row, english, titles)
    pack["closed"] = ClosedSchema().dump(frozen.stamp)
    return pack


def as_of_day(item, as_of: date) -> dict:
    """An item as it stood at the end of ``as_of``: its notes up to then, and the status they
    had brought it to (a pack printed again later shows what the meeting saw)."""
    end = local_day_bounds(as_of, as_of)[1]
    notes = [n for n in item.notes if n.at < end]
    status = "open"
    for n in notes:
        status = {"note": "in_progress" if status == "open" else status, "claim": "done_claimed",
                  "confirm": "done", "send_back": "in_progress"}[n.kind]
    return {"id": item.id, "unit_code": item.unit_code, "unit_name": item.unit_name,
            "year": item.year, "title": item.title, "detail": item.detail, "due": item.due,
            "status": status, "created_at": item.created_at, "updated_at": item.updated_at,
            "notes": notes}


def _village_days_by_month(ids, first: date, as_of: date) -> dict[int, list[Decimal]]:
    found: dict[int, list[Decimal]] = defaultdict(lambda: [Decimal(0)] * 12)
    for user_id, day, halves in db.session.execute(select(
            DayCredit.user_id, DayCredit.day, DayCredit.halves).where(
            DayCredit.user_id.in_(ids), DayCredit.day.between(first, as_of))):
        found[user_id][day.month - 1] += Decimal(halves) / 2
    return found


def _visits(ids, first: date, as_of: date) -> dict[int, dict[str, int]]:
    """Per person: counting visits and their households, and flagged visits by outcome,
    checked in within the year up to as_of."""
    start, end = local_day_bounds(first, as_of)
    found: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    rows = db.session.execute(select(Visit.user_id, Visit.status, Visit.flags,
                                     Visit.households).where(
        Visit.user_id.in_(ids), Visit.check_in_at >= start, Visit.check_in_at < end))
    outcome = {"approved": "approved", "rejected": "rejected", "pending_review": "pending"}
    for user_id, status, flags, households in rows:
        mine = found[user_id]
        if status in COUNTING_STATUSES:
            mine["visits"] += 1
            mine["households"] += households or 0
        if flags and status in outcome:
            mine[outcome[status]] += 1
    return found


def _reports(ids, first: date, as_of: date) -> dict[int, list[dict]]:
    found: dict[int, list[dict]] = defaultdict(list)
    for report in db.session.scalars(select(ThematicReport).where(
            ThematicReport.user_id.in_(ids), ThematicReport.reported_on.between(first, as_of))
            .order_by(ThematicReport.reported_on, ThematicReport.id)):
        found[report.user_id].append({"id": report.id, "reported_on": report.reported_on,
                                      "title": report.title, "status": report.status})
    return found


def _absences(ids, first: date, as_of: date, calendar) -> dict[int, dict[str, int]]:
    """Per person and kind: working days of approved absences within the year up to as_of."""
    found: dict[int, dict[str, int]] = defaultdict(lambda: dict.fromkeys(ABSENCE_KINDS, 0))
    for absence in db.session.scalars(select(Absence).where(
            Absence.user_id.in_(ids), Absence.status == "approved",
            Absence.start_date <= as_of, Absence.end_date >= first)):
        found[absence.user_id][absence.kind] += calendar.count(
            max(absence.start_date, first), min(absence.end_date, as_of))
    return found


def _posts(ids, first: date, last: date) -> dict[int, list[dict]]:
    found: dict[int, list[dict]] = defaultdict(list)
    for post in db.session.scalars(select(Post).where(
            Post.user_id.in_(ids), (Post.starts_on.is_(None)) | (Post.starts_on <= last),
            (Post.ends_on.is_(None)) | (Post.ends_on >= first))
            .order_by(Post.user_id, *POST_ORDER)):
        found[post.user_id].append({"id": post.id, "unit_code": post.unit_code,
                                    "unit_name": post.unit_name, "role": post.role,
                                    "starts_on": post.starts_on, "ends_on": post.ends_on})
    return found

