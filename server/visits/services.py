"""Recording visits and deciding on them: docs/rules.md §1 on top of the database.

Every write service takes its inputs explicitly (the actor, the data, the time ``now`` and
the rule book ``book``; both default to the clock's time and the actor's county's book) and
runs in one order: load → check access → act. It reads no request and no app setting, and
it only flushes: the request's commit point commits (docs/decisions.md, "One commit point").
"""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from types import SimpleNamespace

from sqlalchemy import Integer, bindparam, literal_column, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from .. import clock, policy
from ..auth.models import User
from ..clock import local_day_bounds
from ..closing import guard
from ..compliance.rulebook import Rulebook
from ..db_types import core_rows
from ..errors import Conflict, InvalidInput
from ..extensions import db
from ..fingerprint import fingerprint
from ..org.models import Village
from ..org.posts import field_township_on
from ..org.services import find_village, to_wgs84, unknown_village
from ..progress import credits
from ..rulebooks import rulebook_for
from ..schemas import FIRST_DAY, LAST_DAY, SERVICE_YEARS
from . import fastpath
from . import flags as F
from .models import IS_OPEN, Visit, VisitEvent

REVIEW_MOVES = {  # decision → (statuses it may start from, status it leads to)
    "approve": (("pending_review",), "approved"),
    "reject": (("pending_review", "verified"), "rejected"),
    "reopen": (("approved", "rejected"), "pending_review"),
}


# --- helpers ------------------------------------------------------------------------------

def clock_offset(client_time: datetime | None, now: datetime, book: Rulebook) -> timedelta:
    """How far to shift the client's times: the skew, when it exceeds the threshold."""
    if client_time is None:
        return timedelta(0)
    skew = now - client_time
    if abs(skew.total_seconds()) > book.threshold("clock_skew"):
        return skew
    return timedelta(0)


def _point(location: dict | None) -> F.Point | None:
    if not location:
        return None
    lat, lon = to_wgs84(location["lat"], location["lon"], location.get("crs"))
    return F.Point(lat, lon, location.get("accuracy_m"))


def _distance(point: F.Point | None, village: Village) -> float | None:
    if point is None:
        return None
    return round(F.distance_m(point.lat, point.lon, village.lat, village.lon), 1)


def _check_time(at: datetime, now: datetime, book: Rulebook, field: str) -> None:
    """A time as corrected for the device's clock must still be a time the service keeps (a
    clock set to 2900 must not turn a check-in into one of 1153) and not in the future."""
    if not FIRST_DAY <= at.date() <= LAST_DAY:
        raise InvalidInput("invalid_input", errors={field: [
            f"{SERVICE_YEARS} once corrected for the device clock (X-Client-Time)"]})
    if at > now + timedelta(seconds=book.future_tolerance_s):
        raise InvalidInput("time_in_future", errors={field: ["in the future"]})


def _event(visit: Visit, actor: User | None, action: str, before: str | None = None,
           changes: dict | None = None, comment: str | None = None, *, at: datetime) -> None:
    """Add an entry to the visit's audit trail (docs/rules.md §1: every step is audited)."""
    db.session.add(VisitEvent(visit=visit, actor_id=actor.id if actor else None, at=at,
                              action=action, from_status=before, to_status=visit.status,
                              changes=changes or {}, comment=comment))


def _fix(at: datetime | None, lat, lon, accuracy) -> F.Fix | None:
    if at is None:
        return None
    point = F.Point(lat, lon, accuracy) if lat is not None else None
    return F.Fix(at, point)


def _check_in_fix(visit: Visit) -> F.Fix:
    return _fix(visit.check_in_at, visit.check_in_lat, visit.check_in_lon,
                visit.check_in_accuracy_m)


def _check_out_fix(visit: Visit) -> F.Fix | None:
    return _fix(visit.check_out_at, visit.check_out_lat, visit.check_out_lon,
                visit.check_out_accuracy_m)


# Constants written into the SQL, not bound: a visit's write reads what these queries read,
# and a statement of more than 50 parameters psycopg converts anew on every run.
_WITHDRAWN, _ONE = literal_column("'withdrawn'"), literal_column("1")


def _latest_ended_by(user_id, moment, *other_than):
    """The query for the person's visit with the latest check-out at or before ``moment``."""
    query = select(Visit).where(
        Visit.user_id == user_id, Visit.status != _WITHDRAWN,
        Visit.check_out_at.is_not(None), Visit.check_out_at <= moment,
        *(Visit.id != other for other in other_than))
    return query.order_by(Visit.check_out_at.desc(), Visit.id.desc()).limit(_ONE)


def _later_end(one, other):
    """Of two visits (or rows of their check-out columns, ``None`` for none), the one
    ``_latest_ended_by`` would choose."""
    if one is None or other is None:
        return one if other is None else other
    return max(one, other, key=lambda v: (v.check_out_at, v.id))


def _ended_by(visit: Visit, moment: datetime) -> bool:
    """Whether ``visit`` is one that ``_latest_ended_by`` looks among."""
    return (visit.status != "withdrawn" and visit.check_out_at is not None
            and visit.check_out_at <= moment)


# The visit after another, and the one other than both that it follows (whose check-out its
# travel check compares with, unless the first visit's is later), read in one statement with
# Core and only the columns the check needs: most changes have no later visit, or one whose
# flags stay as they are, and loading whole visits through the ORM cost a check-out more than
# the rest of its SQL. It reads nothing of the changed visit's own row, so a check-out reads
# it in the statement that writes that row (``fastpath.Writes``).
_NEXT_COLUMNS = (Visit.id, Visit.check_in_at, Visit.check_in_lat, Visit.check_in_lon,
                 Visit.check_in_accuracy_m, Visit.flags, Visit.status, Visit.reviewed_at)
# Its parameters are named apart from the columns of ``visits`` (a write's statement that
# reads it would otherwise take them for columns to write).
_AFTER = select(*_NEXT_COLUMNS).where(
    Visit.user_id == bindparam("next_user_id"), Visit.status != _WITHDRAWN,
    Visit.id != bindparam("next_of"), Visit.check_in_at >= bindparam("next_from")
).order_by(Visit.check_in_at, Visit.id).limit(_ONE).subquery("after")
_BEFORE = Visit.__table__.alias("before")
_NEXT_WITH_PREVIOUS = select(
    _AFTER, _BEFORE.c.id.label("before_id"), _BEFORE.c.check_out_at, _BEFORE.c.check_out_lat,
    _BEFORE.c.check_out_lon, _BEFORE.c.check_out_accuracy_m,
).select_from(_AFTER.outerjoin(_BEFORE, _BEFORE.c.id == _latest_ended_by(
    bindparam("next_user_id"), _AFTER.c.check_in_at, _AFTER.c.id, bindparam("next_of")
).with_only_columns(Visit.id).scalar_subquery()))
# A visit's write returns whether a closing of its years is in force, and with a check-out
# the visit after it and what the commit's credit upkeep reads for the stay's dates: one
# round trip for them all on PostgreSQL.
writes = fastpath.Writes(guard.COUNT_IN_FORCE, _NEXT_WITH_PREVIOUS, credits.READ_BESIDE)


def _travel_flag(at_fix: F.Fix, before, book: Rulebook) -> set[str]:
    """``impossible_travel`` when ``before`` (a visit, or a row of its check-out columns)
    ended too far away too shortly before ``at_fix``."""
    fix = _check_out_fix(before) if before is not None else None
    travelled_too_fast = F.is_impossible_travel(fix, at_fix, book)
    return {"impossible_travel"} if travelled_too_fast else set()


def _settle_status(visit: Visit, book: Rulebook) -> None:
    if visit.check_out_at is not None and visit.status in ("open", "verified", "pending_review"):
        visit.status = F.closed_status(visit.flags, book)


def _following(user_id: int, visit_id: int | None, check_out_at: datetime) -> dict:
    """The parameters of ``_NEXT_WITH_PREVIOUS`` for the visit after a visit of the person's
    (``visit_id`` None: one being written, whose id ``fastpath.Writes`` binds)."""
    return {"next_user_id": user_id, "next_of": visit_id, "next_from": check_out_at}


_UNREAD = object()


def reevaluate_successor(visit: Visit, book: Rulebook, *, now: datetime | None = None,
                         after=_UNREAD) -> None:
    """An earlier visit arrived late: re-check the next visit's travel (unless reviewed;
    docs/rules.md §1, ``impossible_travel``; docs/decisions.md, "Visits"). The next visit is
    the person's first checked in at or after this one's check-out; the one it follows, the
    latest checked out at or before its check-in. ``after``: the row of ``_NEXT_WITH_PREVIOUS``
    when the visit's write read it (None: there is no next visit)."""
    if after is _UNREAD:
        after = core_rows(db.session(), _NEXT_WITH_PREVIOUS,
                          _following(visit.user_id, visit.id, visit.check_out_at)).first()
    if after is None or after.reviewed_at is not None:
        return
    other = None
    if after.check_out_at is not None:  # its check-out columns, under the visit's own id
        other = SimpleNamespace(id=after.before_id, check_out_at=after.check_out_at,
                                check_out_lat=after.check_out_lat,
                                check_out_lon=after.check_out_lon,
                                check_out_accuracy_m=after.check_out_accuracy_m)
    before = _later_end(other, visit if _ended_by(visit, after.check_in_at) else None)
    flags = set(after.flags) - {"impossible_travel"}
    flags |= _travel_flag(_check_in_fix(after), before, book)
    new_flags = F.active(flags, book)
    if new_flags == after.flags:
        return
    later = fastpath.visit_by_id(after.id)  # rare: the later visit changes, through the ORM
    before_status, old_flags = later.status, later.flags
    later.flags = new_flags
    _settle_status(later, book)
    _event(later, None, "reevaluated", before_status,
           {"flags": [old_flags, new_flags], "because_of_visit": visit.id},
           at=now or clock.now())


# --- creating and closing -----------------------------------------------------------------

# What a check-in reads before anything is decided, in one round trip (``fastpath.Arrivals``):
# the village it names, the person's visit under its client_id (a replay), their open visit,
# and the visit it follows, by the rule above.
# A complete visit's read takes the year's closing lock and the person's credit lock too (on
# PostgreSQL), so that its write, a later statement, reads what follows it after both.
arrival = fastpath.Arrivals(_latest_ended_by(bindparam("user_id"), bindparam("check_in_at")),
                            _ended_by, (guard.HOLD_COLUMN, credits.person_lock_column(
                                bindparam("lock_user_id", type_=Integer))))


def _locks_taken(year: int, user_id: int) -> None:
    """A read with the lock columns (``guard.HOLD_COLUMN``, ``credits.person_lock_column``)
    gave its row: this transaction holds the year's closing lock and the person's credit lock."""
    guard.lock_taken(year)
    credits.person_locked(db.session(), user_id)


def _arrive(actor: User, client_id: str, check_in_at: datetime, code: str, whole: bool):
    """``arrival``, with a complete visit's locks on PostgreSQL."""
    year = clock.local_date(check_in_at).year
    locking = whole and db.session.connection().dialect.name == "postgresql"
    village, known = arrival(actor.id, client_id, check_in_at, code,
                             {**guard.hold_column_params(year), "lock_user_id": actor.id}
                             if locking else None)
    if locking and village is not None:
        _locks_taken(year, actor.id)
    return village, known


def find_own(user_id: int, client_id: str) -> Visit | None:
    return fastpath.own_visit(user_id, client_id)


def _replay(existing: Visit, digest: str) -> Visit:
    if existing.request_digest != digest:
        raise Conflict("client_id_reused")
    return existing


def _open_visit(user_id: int) -> Visit | None:
    return db.session.scalar(select(Visit).where(Visit.user_id == user_id,
                                                 Visit.status == IS_OPEN))


def _check_township(actor: User, township_id: int, code: str, at: datetime) -> None:
    """Refuse a check-in on a local date the person holds no cadre or secretary post, and a
    village outside the township of the post held then (docs/rules.md §8)."""
    township = field_township_on(actor, clock.local_date(at))
    if township is None:
        raise InvalidInput("no_post", errors={"check_in": ["no post on this date"]})
    if township_id != township:
        raise InvalidInput("village_outside_township", errors={"village_code": ["outside"]},
                           code=code)


class Draft(SimpleNamespace):
    """A visit's columns being gathered before they are written (by attribute name), read
    and set as a visit's: a plain object, as an ORM instance's bookkeeping would only cost."""


def _apply_check_out(visit: Draft, village: Village, part: dict, offset: timedelta,
                     now: datetime, book: Rulebook) -> set[str]:
    """Record a check-out on the visit; return the flags it raises."""
    at = part["at"] + offset
    if at < visit.check_in_at:
        raise InvalidInput("checkout_before_checkin", errors={"check_out": ["before check-in"]})
    _check_time(at, now, book, "check_out")
    point = _point(part.get("location"))
    visit.check_out_at, visit.check_out_at_original = at, part["at"]
    if point:
        visit.check_out_lat, visit.check_out_lon = point.lat, point.lon
        visit.check_out_accuracy_m = point.accuracy_m
    visit.check_out_distance_m = _distance(point, village)
    visit.check_out_manual = bool(part.get("manual"))
    visit.check_out_received_at = now
    found = F.location_flags(point, visit.check_out_distance_m, village.radius_m, book)
    return found | F.stay_flags(visit.check_in_at, at, visit.check_out_manual, now, book)


def _columns(draft: Draft, but: tuple[str, ...] = ()) -> dict:
    """The columns set on a draft, by attribute name."""
    return {key: value for key, value in vars(draft).items() if key not in but}


def _check_out_request(part: dict, data: dict) -> dict:
    return {**part, "households": data.get("households"), "note": data.get("note")}


def create_visit(actor: User, data: dict, client_time: datetime | None, *,
                 now: datetime | None = None, book: Rulebook | None = None) -> tuple[Visit, bool]:
    """Record a check-in (or a whole visit) of the actor's own; return it and whether it is new
    (docs/rules.md §1; a replay of the same ``client_id`` is answered as it was, API.md
    "Idempotency").

    Raises Forbidden unless the actor keeps village visits, Conflict when the client_id was
    used for a different request or another visit is open, InvalidInput for bad times, an
    unknown village or one outside the township.
    """
    policy.ensure(policy.can_keep_own_visits(actor, actor))
    now = now or clock.now()
    book = book or rulebook_for(actor)
    digest = fingerprint(data)
    client_id = str(data["client_id"])
    offset = clock_offset(client_time, now, book)
    check_in_at = data["check_in"]["at"] + offset
    village, known = _arrive(actor, client_id, check_in_at, data["village_code"],
                             data.get("check_out") is not None)
    if known.own is not None:
        return _replay(known.own, digest), False
    if village is None:
        raise unknown_village(data["village_code"])
    _check_township(actor, village.township_id, village.code, check_in_at)
    if data.get("activity") and data["activity"] not in book.activity_ids():
        raise InvalidInput("invalid_input", errors={"activity": ["unknown activity"]})
    _check_time(check_in_at, now, book, "check_in")
    held = guard.hold_person(actor, guard.visit_years(
        check_in_at, data["check_out"]["at"] + offset if data.get("check_out") else None))
    if data.get("check_out") is None and known.open is not None:
        held.settle()  # a closed year is said first
        raise _open_conflict(known.open)
    point = _point(data["check_in"].get("location"))
    values = {"client_id": client_id, "user_id": actor.id, "village_id": village.id,
              "activity": data.get("activity"), "check_in_at": check_in_at,
              "check_in_at_original": data["check_in"]["at"],
              "check_in_lat": point.lat if point else None,
              "check_in_lon": point.lon if point else None,
              "check_in_accuracy_m": point.accuracy_m if point else None,
              "check_in_distance_m": _distance(point, village),
              "households": data.get("households"), "note": data.get("note"), "status": "open",
              "request_digest": digest, "received_at": now,
              "clock_offset_s": offset.total_seconds() or None}
    found = F.location_flags(point, values["check_in_distance_m"], village.radius_m, book)
    found |= _travel_flag(F.Fix(check_in_at, point), known.before, book)
    if offset:
        found.add("clock_skew")
    if data.get("check_out") is None:
        values["flags"] = F.active(found, book)
        values["updated_at"] = now  # a new visit was last changed when it was received
        return _insert(actor, lambda: _write_open(actor, village, values, offset, held),
                       digest, client_id, held)
    draft = Draft(**values)
    with held.ahead():
        found |= _apply_check_out(draft, village, data["check_out"], offset, now, book)
    draft.check_out_digest = fingerprint(_check_out_request(data["check_out"], data))
    draft.flags = F.active(found, book)
    _settle_status(draft, book)
    draft.updated_at = now
    return _insert(actor, lambda: _write_whole(actor, village, draft, offset, book, now, held),
                   digest, client_id, held)


def _refuse_if_open(user_id: int) -> None:
    """Refuse while a visit is open (a concurrent request opened it after we looked)."""
    open_visit = _open_visit(user_id)
    if open_visit is not None:
        raise _open_conflict(open_visit)


def _open_conflict(open_visit: Visit) -> Conflict:
    return Conflict("visit_open", errors={"open_visit": [open_visit.client_id]},
                    client_id=open_visit.client_id)


def _offset_changes(offset: timedelta) -> dict:
    return {"clock_offset_s": offset.total_seconds()} if offset else {}


def _write_open(actor: User, village: Village, values: dict, offset: timedelta,
                held: guard.Held, follow: bool = False):
    """Write an open check-in, what the phone sends on arrival, and its "created" event, and
    finish the closing check ``held`` (with ``follow``, read the visit after it too).

    Like a whole visit, it takes the fast path: the rows a flush would store, at a fraction of
    its cost. The visit shown and its village are detached: they hold every column, but load
    no relationship beyond ``user`` and ``village``. With ``follow`` it returns the visit, the
    ``Written`` (the next visit, and what the credit upkeep reads for the stay's dates) and the
    parameters it was written with.
    """
    params = {**held.params, **_following(actor.id, None, values.get("check_out_at"))}
    if follow:
        params.update(credits.beside_params(db.session(), actor.id, values["check_in_at"],
                                            values["check_out_at"]))
    visit, written = writes.insert_visit(values, {
        "actor_id": actor.id, "at": values.get("received_at"), "action": "created",
        "from_status": None, "to_status": values.get("status"),
        "changes": _offset_changes(offset), "comment": None},
        params, user=actor, village=village, follow=follow)
    held.settle(written.closings)
    return (visit, written, params) if follow else visit


def _write_whole(actor: User, village: Village, draft: Draft, offset: timedelta,
                 book: Rulebook, now: datetime, held: guard.Held) -> Visit:
    """Write a whole visit (a phone's sync of an offline visit, a late entry) as an open one
    is written; its dates' credits are noted for the commit to bring up to date, which the
    flush of the ORM would have noted; and a visit arriving late may change the travel check
    of the person's next one."""
    visit, written, params = _write_open(actor, village, _columns(draft), offset, held,
                                         follow=True)
    _note_stay(visit, written, params)
    reevaluate_successor(visit, book, now=now, after=written.following)
    return visit


def _note_stay(visit: Visit, written: fastpath.Written, params: dict) -> None:
    """The visit's stay was written (with ``params``): note its dates for the commit's credit
    upkeep, with what its write read for them."""
    read = None
    if written.beside is not None and params["cr_user"] is not None:  # it read something
        read = credits.ReadBeside(params, written.beside, visit.id, visit.status)
    credits.note_stay(db.session(), visit.user_id, visit.check_in_at, visit.check_out_at, read)


def _insert(actor: User, write, digest: str, client_id: str,
            held: guard.Held) -> tuple[Visit, bool]:
    """Run ``write``, which stores the visit at once (a Core INSERT, or a flush), letting the
    database settle races: a lost race returns the winner, or refuses as the open visit the
    winner made (a closed year first, as ever). Losing one leaves nothing of this request to
    keep, so the unit of work is rolled back to read the winner; the request's commit point
    commits the rest."""
    try:
        visit = write()
    except IntegrityError:
        db.session.rollback()
        held.again()
        existing = find_own(actor.id, client_id)
        if existing is not None:
            return _replay(existing, digest), False
        _refuse_if_open(actor.id)
        raise
    return visit, True


def check_out(actor: User, visit: Visit, data: dict, client_time: datetime | None, *,
              now: datetime | None = None, book: Rulebook | None = None) -> Visit:
    """Close the actor's own open visit (docs/rules.md §1); the same check-out again is a no-op,
    a different one a Conflict."""
    policy.ensure(policy.can_keep_own_visits(actor, visit.user))
    digest = fingerprint(_check_out_request(data, data))
    if visit.check_out_at is not None:
        if visit.check_out_digest == digest:
            return visit
        raise Conflict("visit_closed")
    if visit.status != "open":
        raise Conflict("visit_not_open")
    now = now or clock.now()
    book = book or rulebook_for(actor)
    offset = clock_offset(client_time, now, book)
    held = guard.hold_visit(visit, data["at"] + offset)
    # The check-out's columns are gathered on a draft and written with one Core UPDATE, as a
    # check-in is written with a Core INSERT: the write path of a phone.
    draft = Draft(check_in_at=visit.check_in_at, status=visit.status)
    with held.ahead():
        found = _apply_check_out(draft, visit.village, data, offset, now, book)
    if offset:
        found.add("clock_skew")
    if "households" in data and data["households"] is not None:
        draft.households = data["households"]
    if data.get("note") is not None:
        draft.note = data["note"]
    draft.check_out_digest = digest
    draft.flags = F.active(set(visit.flags) | found, book)
    _settle_status(draft, book)
    draft.updated_at = now
    params = {**held.params, **_following(visit.user_id, visit.id, draft.check_out_at),
              **credits.beside_params(db.session(), visit.user_id, visit.check_in_at,
                                      draft.check_out_at)}
    written = writes.store_changes(visit, _columns(draft, but=("check_in_at",)), {
        "actor_id": actor.id, "at": now, "action": "checked_out", "from_status": "open",
        "to_status": draft.status, "changes": _offset_changes(offset), "comment": None},
        params, follow=True)
    held.settle(written.closings)
    _note_stay(visit, written, params)
    reevaluate_successor(visit, book, now=now, after=written.following)
    return visit


# --- the person's corrections ---------------------------------------------------------------

def explain(actor: User, visit: Visit, note: str, *, now: datetime | None = None) -> Visit:
    """Add the person's explanation to their own flagged visit (docs/rules.md §1)."""
    policy.ensure(policy.can_keep_own_visits(actor, visit.user))
    if not visit.flags:
        raise Conflict("not_flagged")
    old = visit.explanation
    visit.explanation = note.strip()
    _event(visit, actor, "explained", visit.status, {"explanation": [old, visit.explanation]},
           at=now or clock.now())
    return visit


def withdraw(actor: User, visit: Visit, *, now: datetime | None = None,
             book: Rulebook | None = None) -> Visit:
    """Withdraw one's own accidental check-in or pending visit; it never counts (docs/rules.md
    §1). The visit after it may then travel from another one (``reevaluate_successor``)."""
    policy.ensure(policy.can_keep_own_visits(actor, visit.user))
    if visit.status == "withdrawn":
        return visit
    if visit.status not in ("open", "pending_review"):
        raise Conflict("cannot_withdraw")
    guard.ensure_visit_open(visit)
    now = now or clock.now()
    before = visit.status
    visit.status = "withdrawn"
    _event(visit, actor, "withdrawn", before, at=now)
    if visit.check_out_at is not None:
        db.session.flush()
        reevaluate_successor(visit, book or rulebook_for(actor), now=now)
    return visit


def change_village(actor: User, visit: Visit, code: str, *, now: datetime | None = None,
                   book: Rulebook | None = None) -> Visit:
    """Move one's own open visit to another village of the township; check-in flags are redone
    (docs/rules.md §1)."""
    policy.ensure(policy.can_keep_own_visits(actor, visit.user))
    if visit.status != "open":
        raise Conflict("visit_not_open")
    village = find_village(code)
    _check_township(actor, village.township_id, code, visit.check_in_at)
    if village.id == visit.village_id:
        return visit
    guard.ensure_visit_open(visit)
    book = book or rulebook_for(actor)
    old_code, old_flags = visit.village.code, visit.flags
    point = None if visit.check_in_lat is None else F.Point(
        visit.check_in_lat, visit.check_in_lon, visit.check_in_accuracy_m)
    visit.village = village
    visit.check_in_distance_m = _distance(point, village)
    kept = set(visit.flags) & {"impossible_travel", "clock_skew"}
    visit.flags = F.active(kept | F.location_flags(point, visit.check_in_distance_m,
                                                  village.radius_m, book), book)
    _event(visit, actor, "village_changed", "open",
           {"village_code": [old_code, village.code], "flags": [old_flags, visit.flags]},
           at=now or clock.now())
    return visit


# --- supervisors' decisions -----------------------------------------------------------------

def _decide(actor: User, visit: Visit, decision: str, comment: str | None,
            now: datetime) -> None:
    starts, target = REVIEW_MOVES[decision]
    if visit.status not in starts:
        raise Conflict("cannot_review", errors={"id": [str(visit.id)]}, state=visit.status)
    guard.ensure_visit_open(visit)
    before = visit.status
    visit.status = target
    visit.reviewed_at, visit.reviewed_by_id = now, actor.id
    visit.review_comment = comment
    _event(visit, actor, decision, before, comment=comment, at=now)


def _check_comment(decision: str, comment: str | None) -> None:
    if decision in ("reject", "reopen") and not (comment or "").strip():
        raise InvalidInput("comment_required", errors={"comment": ["required"]})


def review(actor: User, visit: Visit, decision: str, comment: str | None, *,
           now: datetime | None = None) -> Visit:
    """Approve, reject or reopen one visit (a supervisor in scope; docs/rules.md §1,
    "Statuses")."""
    policy.ensure(policy.can_review(actor, visit.user))
    _check_comment(decision, comment)
    _decide(actor, visit, decision, comment, now or clock.now())
    return visit


def review_many(actor: User, ids: list[int], decision: str, comment: str | None, *,
                now: datetime | None = None) -> list[Visit]:
    """Decide several visits at once: all of them, or none when any cannot be decided
    (docs/decisions.md, "Visits": bulk review is all or none; the refusal rolls back)."""
    visits = [load_visit(actor, str(i)) for i in dict.fromkeys(ids)]
    for visit in visits:
        policy.ensure(policy.can_review(actor, visit.user))
    _check_comment(decision, comment)
    now = now or clock.now()
    for visit in visits:
        _decide(actor, visit, decision, comment, now)
    return visits


# --- reading --------------------------------------------------------------------------------

# How a visit is read by id or by client_id; a check-out's read takes its year's closing lock
# and its person's credit lock too (``load_visit``'s ``holding``), so that its write, the next
# statement, reads what follows it after both.
_LOCKS = (guard.HOLD_COLUMN, credits.person_lock_column(Visit.user_id))
_READS = {(by_id, holding): fastpath.visit_query(*(_LOCKS if holding else ()), by_id=by_id)
          for by_id in (False, True) for holding in (False, True)}


def load_visit(actor: User, ref: str, *, holding: int | None = None) -> Visit:
    """The visit by id or by the caller's own client_id; 404 when absent or out of scope.
    ``holding``: a year whose closing lock to take with the read, on PostgreSQL (a check-out's:
    the lock is taken before a write anyway, and with the read it costs no round trip)."""
    with_lock = holding is not None and db.session.connection().dialect.name == "postgresql"
    params = guard.hold_column_params(holding) if with_lock else {}
    if ref.isdigit():
        params["id"] = int(ref)
    else:
        try:
            params.update(user_id=actor.id, client_id=str(uuid.UUID(ref)))
        except ValueError:
            params = None
    visit = None
    if params is not None:
        visit = fastpath.first_visit(_READS[ref.isdigit(), with_lock], params)
    if visit is not None and with_lock:
        _locks_taken(holding, visit.user_id)
    policy.ensure_visible(visit is not None and policy.can_read_person(actor, visit.user))
    return visit


def list_visits(actor: User, args: dict, page: int, page_size: int) -> tuple[list[Visit], int]:
    """Visits the caller may read, newest first, filtered by person, status and local dates."""
    query = policy.readable_rows(actor, select(Visit), Visit.user_id, args.get("user_id"))
    if "status" in args:
        query = query.where(Visit.status == args["status"])
    start, end = local_day_bounds(args.get("from_"), args.get("to"))
    if start:
        query = query.where(Visit.check_in_at >= start)
    if end:
        query = query.where(Visit.check_in_at < end)
    total = db.session.scalar(select(db.func.count()).select_from(query.subquery()))
    offset = (page - 1) * page_size
    if offset >= total:
        return [], total  # past the end (an absurd page would overflow the OFFSET)
    rows = db.session.scalars(
        query.options(selectinload(Visit.user), selectinload(Visit.village))
        .order_by(Visit.check_in_at.desc(), Visit.id.desc())
        .limit(page_size).offset(offset)).all()
    return rows, total


def visit_events(visit: Visit) -> list[VisitEvent]:
    return db.session.scalars(select(VisitEvent).where(VisitEvent.visit_id == visit.id)
                              .options(selectinload(VisitEvent.actor))
                              .order_by(VisitEvent.at, VisitEvent.id)).all()
