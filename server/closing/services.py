"""Closing a year (封存, RULES.md §9; docs/decisions.md, "Closing a year").

A county closes year Y after the 述职评议考核 meeting. Closing stores every person's results as
of 31 December Y (or the closing day, if earlier) as canonical JSON — sorted keys, no
whitespace, numbers as the API returns them — with its SHA-256. While Y is closed:

- every write that would change a result of Y in the county is refused (``guard.ensure_open``: 409
  ``period_closed``, final for a phone);
- results of Y are served from the snapshot (``frozen_rules``), byte for byte, and carry
  ``"closed": {"closed_at", "snapshot_sha256"}``.

The lock a write and a closing share, and the refusal, are in ``guard.py``.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from .. import clock, policy
from ..audit.models import record
from ..auth.models import User
from ..errors import Conflict, InvalidInput, NotFound
from ..extensions import db
from ..org.models import Unit, Village
from ..progress.rollup import rollup
from ..progress.schemas import RollupRowSchema
from ..progress.services import check_year, rollup_row
from ..rulebooks import rulebook_of, ruleset
from ..visits.models import Visit
from .guard import hold
from .models import Closing


def canonical(document) -> bytes:
    """The snapshot's bytes: JSON with sorted keys, no whitespace, UTF-8."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode()



# --- closing, reopening, listing ----------------------------------------------------------------

def _county(actor: User, code: str) -> Unit:
    """The county named, which the actor may close or reopen (403 otherwise, an unknown code
    alike); 422 for a unit in scope that is not a county."""
    unit = db.session.scalar(select(Unit).where(Unit.code == code))
    policy.ensure(unit is not None and actor.role in ("supervisor", "admin")
                  and policy.in_scope(actor, unit), "out_of_scope", {"unit_code": ["out of scope"]})
    if unit.level != "county":
        raise InvalidInput("unit_not_county", errors={"unit_code": ["not a county"]}, code=code)
    return unit


def closing_in_force(county: Unit, year: int, lock: bool = False) -> Closing | None:
    """The county's closing of ``year`` not reopened (with ``lock``, its row held)."""
    query = select(Closing).where(
        Closing.unit_id == county.id, Closing.year == year, Closing.reopened_at.is_(None))
    return db.session.scalar(query.with_for_update() if lock else query)


def pending_reviews(county: Unit, year: int) -> int:
    """Visits of ``year`` (by check-in date) in the county's villages awaiting review."""
    start, end = clock.local_day_bounds(date(year, 1, 1), date(year, 12, 31))
    return db.session.scalar(
        select(func.count(Visit.id)).join(Village, Visit.village_id == Village.id)
        .join(Unit, Village.township_id == Unit.id)
        .where(Unit.path.startswith(county.path), Visit.status == "pending_review",
               Visit.check_in_at >= start, Visit.check_in_at < end))


def _whole_deployment() -> User:
    """Who reads a county's results for its snapshot: scope is the whole county, whoever
    closes it (an admin with no unit reads everything; never stored)."""
    return User(role="admin", unit_id=None)


def snapshot_document(county: Unit, year: int, as_of: date) -> dict:
    """Every person's results in the county as of ``as_of``, as the roll-up serves them (in
    Chinese, the default language)."""
    rows = [rollup_row(person, results, english=False)
            for person, results in rollup(_whole_deployment(), county, as_of, ruleset())]
    return {"county": county.code, "year": year, "as_of": as_of.isoformat(),
            "people": RollupRowSchema(many=True, exclude=("coverage",)).dump(rows)}


def close_year(actor: User, year: int, code: str, note: str | None, *,
               now: datetime) -> Closing:
    """Close ``year`` for the county ``code``: refused while visits of the year wait for
    review (409 ``pending_reviews`` with the count) or when it is closed already."""
    county = _county(actor, code)
    check_year(year)
    hold([year], exclusive=True)
    if closing_in_force(county, year) is not None:
        raise Conflict("year_closed", year=year, code=code)
    waiting = pending_reviews(county, year)
    if waiting:
        raise Conflict("pending_reviews", body={"count": waiting}, count=waiting)
    as_of = min(date(year, 12, 31), clock.local_date(now))
    document = snapshot_document(county, year, as_of)
    text = canonical(document)
    closing = Closing(unit=county, year=year, as_of=as_of, note=(note or "").strip() or None,
                      people=len(document["people"]), snapshot=text.decode(),
                      snapshot_sha256=hashlib.sha256(text).hexdigest(), closed_at=now,
                      closed_by_id=actor.id)
    db.session.add(closing)
    try:
        db.session.flush()
    except IntegrityError:  # another closing of the same year and county won
        db.session.rollback()
        raise Conflict("year_closed", year=year, code=code) from None
    record(actor.id, "closing", closing.id, "closed", {
        "year": year, "unit_code": code, "as_of": str(as_of), "people": closing.people,
        "snapshot_sha256": closing.snapshot_sha256, "note": closing.note}, at=now)
    return closing


def reopen_year(actor: User, year: int, code: str, reason: str, *, now: datetime) -> Closing:
    """Reopen a closed year (an admin in scope, with a reason); the snapshot is kept."""
    policy.ensure(policy.is_admin(actor))
    county = _county(actor, code)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("reason_required", errors={"reason": ["required"]})
    closing = closing_in_force(county, year, lock=True)
    if closing is None:
        raise NotFound("not_closed")
    closing.reopened_at, closing.reopened_by_id, closing.reopen_reason = now, actor.id, reason
    record(actor.id, "closing", closing.id, "reopened", {
        "year": year, "unit_code": code, "reason": reason}, at=now)
    db.session.flush()
    return closing


def list_closings(actor: User, code: str | None) -> list[Closing]:
    """The closings (reopened ones too) of the counties in the actor's scope, or of the one
    named (in scope, else 403), newest first."""
    policy.ensure(policy.is_org_reader(actor))
    query = policy.readable_units(actor, select(Closing).join(Unit, Closing.unit_id == Unit.id))
    if code is not None:
        query = query.where(Closing.unit_id == _county(actor, code).id)
    return db.session.scalars(query.order_by(Closing.year.desc(), Closing.id.desc())).all()


def load_closing(actor: User, closing_id: int) -> Closing:
    closing = db.session.get(Closing, closing_id)
    policy.ensure_visible(closing is not None and policy.is_org_reader(actor)
                          and policy.in_scope(actor, closing.unit))
    return closing


def _judged(document: dict) -> dict:
    """What a snapshot fixes: each person's unit, whether their post had ended, and their
    results without the rule titles (a name can be corrected and a title reworded later)."""
    return {row["user"]["id"]: (row["unit_code"], row["post_ended"],
                                [{k: v for k, v in r.items() if k != "title"}
                                 for r in row["rules"]])
            for row in document["people"]}


def verify(year: int, code: str) -> tuple[Closing | None, bool]:
    """Recompute the results a closing froze: the closing in force (or the latest) and whether
    its stored snapshot still matches its hash and what the database now yields (the same
    people, units and results; names and rule titles may have been corrected since)."""
    county = db.session.scalar(select(Unit).where(Unit.code == code))
    if county is None:
        return None, False
    closing = closing_in_force(county, year) or db.session.scalar(select(Closing).where(
        Closing.unit_id == county.id, Closing.year == year).order_by(Closing.id.desc()))
    if closing is None:
        return None, False
    stored = closing.snapshot.encode()
    again = snapshot_document(county, year, closing.as_of)
    return closing, (hashlib.sha256(stored).hexdigest() == closing.snapshot_sha256
                     and _judged(again) == _judged(json.loads(stored)))


# --- serving a closed year's results ------------------------------------------------------------

@dataclass(frozen=True)
class Frozen:
    """A closing in force as results read it: its county's path, its as-of date, its stamp,
    and its rows by person."""

    county_id: int
    code: str
    path: str
    as_of: date
    stamp: dict
    rows: dict


@lru_cache(maxsize=32)
def _rows(closing_id: int, sha: str) -> dict:
    """A snapshot's rows by person id (a snapshot never changes: keyed by id and hash)."""
    text = db.session.scalar(select(Closing.snapshot).where(Closing.id == closing_id))
    return {row["user"]["id"]: row for row in json.loads(text)["people"]}


def frozen_of(year: int, as_of: date) -> list[Frozen]:
    """The closings in force of ``year`` whose snapshot answers results as of ``as_of`` (the
    snapshot's own as-of date or later)."""
    found = []
    for closing_id, county_id, code, path, frozen_on, closed_at, sha in db.session.execute(
            select(Closing.id, Closing.unit_id, Unit.code, Unit.path, Closing.as_of,
                   Closing.closed_at, Closing.snapshot_sha256)
            .join(Unit, Closing.unit_id == Unit.id)
            .where(Closing.year == year, Closing.reopened_at.is_(None))):
        if as_of >= frozen_on:
            found.append(Frozen(county_id, code, path, frozen_on,
                                {"closed_at": closed_at, "snapshot_sha256": sha},
                                _rows(closing_id, sha)))
    return found


def covering(frozen: list[Frozen], unit: Unit | None) -> Frozen | None:
    """The closing (of ``frozen``, from ``frozen_of``) whose county holds ``unit``."""
    if unit is None:
        return None
    return next((f for f in frozen if unit.path.startswith(f.path)), None)


def frozen_for(unit: Unit | None, year: int, as_of: date) -> Frozen | None:
    """The closing whose county holds ``unit``, if it answers results as of ``as_of``."""
    return covering(frozen_of(year, as_of), unit) if unit is not None else None


def frozen_row(frozen: list[Frozen], user_id: int, unit_code: str | None) -> tuple:
    """The snapshot's row of a person shown under ``unit_code`` (and its closing), if any."""
    for closing in frozen:
        row = closing.rows.get(user_id)
        if row is not None and row["unit_code"] == unit_code:
            return closing, row
    return None, None


def english_titles(closing: Frozen) -> dict[str, str]:
    """The rule book's English titles of the closing's county, by rule id."""
    return {rule.id: rule.title(True)
            for rule in rulebook_of(db.session.get(Unit, closing.county_id)).rules}


def frozen_rules(closing: Frozen, row: dict, english: bool,
                 titles: dict[str, str] | None = None) -> list[dict]:
    """A snapshot row's results, as stored; in English the titles are the rule book's (a
    label in the reader's language: the numbers and everything else are the snapshot's)."""
    if not english:
        return row["rules"]
    titles = titles if titles is not None else english_titles(closing)
    return [{**result, "title": titles.get(result["rule_id"], result["title"])}
            for result in row["rules"]]


def freeze_rows(rows: list[dict], frozen: list[Frozen], english: bool) -> list[Frozen]:
    """Serve each roll-up row (as dumped) of a person in a closed county (of ``frozen``, from
    ``frozen_of``) from its snapshot; return the closings that served some, by county code."""
    used: dict[str, Frozen] = {}
    titles: dict[str, dict[str, str]] = {}
    for row in rows if frozen else ():
        closing, stored = frozen_row(frozen, row["user"]["id"], row["unit_code"])
        if stored is not None:
            if english and closing.code not in titles:
                titles[closing.code] = english_titles(closing)
            row["rules"] = frozen_rules(closing, stored, english, titles.get(closing.code))
            used[closing.code] = closing
    return [used[code] for code in sorted(used)]
