"""Rectification items (整改, RULES.md §10): recorded by a supervisor for a township after the
meeting; the township's secretary (or a supervisor) adds notes and may claim an item done; a
supervisor confirms it or sends it back. Status: open → in_progress → done_claimed → done (or
back to in_progress). Every change is audited; nothing is deleted.

Services take the actor and the data, check access, act and flush (the commit point commits).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from .. import clock, policy
from ..audit.models import record
from ..auth.models import User
from ..errors import Conflict, InvalidInput
from ..extensions import db
from ..fingerprint import fingerprint
from ..org.models import Unit
from .models import Rectification, RectificationNote


def check_township(unit: Unit) -> None:
    if unit.level != "township":
        raise InvalidInput("unit_not_township", errors={"unit_code": ["not a township"]},
                           code=unit.code)


def may_read(actor: User, unit: Unit) -> bool:
    """A township's items and pack: its secretary, or a supervisor or admin in scope."""
    return (actor.role == "secretary" and actor.unit_id == unit.id) or \
        (actor.role in ("supervisor", "admin") and policy.in_scope(actor, unit))


def _may_note(actor: User, unit: Unit) -> bool:
    return (actor.role == "secretary" and actor.unit_id == unit.id) or \
        (actor.role == "supervisor" and policy.in_scope(actor, unit))


def _may_decide(actor: User, unit: Unit) -> bool:
    return actor.role == "supervisor" and policy.in_scope(actor, unit)


def create_item(actor: User, data: dict, *, now: datetime | None = None) -> Rectification:
    """Record a critique point of ``year``'s meeting for a township (a supervisor in scope)."""
    policy.ensure(actor.role == "supervisor")
    unit = db.session.scalar(select(Unit).where(Unit.code == data["unit_code"]))
    policy.ensure(unit is not None and policy.in_scope(actor, unit), "out_of_scope",
                  {"unit_code": ["out of scope"]})
    check_township(unit)
    now = now or clock.now()
    item = Rectification(unit=unit, year=data["year"], title=data["title"].strip(),
                         detail=data.get("detail"), due=data.get("due"), status="open",
                         created_by_id=actor.id, created_at=now, updated_at=now)
    db.session.add(item)
    db.session.flush()
    record(actor.id, "rectification", item.id, "created",
           {"unit_code": unit.code, "year": item.year, "title": item.title}, at=now)
    return item


def list_items(actor: User, unit_code: str | None, year: int | None) -> list[Rectification]:
    """The items the actor may read: of one township (its secretary, or in scope; else 403),
    or all in scope; of one year if asked. Oldest first."""
    query = select(Rectification).join(Unit, Unit.id == Rectification.unit_id)
    if unit_code is not None:
        unit = db.session.scalar(select(Unit).where(Unit.code == unit_code))
        policy.ensure(unit is not None and may_read(actor, unit), "out_of_scope")
        query = query.where(Rectification.unit_id == unit.id)
    elif actor.role == "secretary" and actor.unit_id is not None:
        query = query.where(Rectification.unit_id == actor.unit_id)
    else:
        policy.ensure(actor.role in ("supervisor", "admin"))
        query = policy.readable_units(actor, query)
    if year is not None:
        query = query.where(Rectification.year == year)
    return list(db.session.scalars(query.options(
        selectinload(Rectification.notes).selectinload(RectificationNote.author),
        selectinload(Rectification.unit)).order_by(Rectification.year, Rectification.id)))


def load_item(actor: User, item_id: int) -> Rectification:
    """An item by id; 404 when absent or not the actor's to read."""
    item = db.session.get(Rectification, item_id)
    policy.ensure_visible(item is not None and may_read(actor, item.unit))
    return item


def _lock(item: Rectification) -> None:
    """Hold the item's row until the commit and read it afresh: a note, a claim and a
    decision arriving at once are made one after the other (SQLite writes are already)."""
    db.session.execute(select(Rectification.id).where(Rectification.id == item.id)
                       .with_for_update())
    db.session.refresh(item)


def add_note(actor: User, item: Rectification, data: dict, *,
             now: datetime | None = None) -> tuple[Rectification, bool]:
    """A progress note, claiming the item done with ``claim_done`` (the township's secretary
    or a supervisor in scope). Idempotent per author by ``client_id``: a replay answers the
    item as it is now (and whether this call added the note)."""
    policy.ensure(_may_note(actor, item.unit))
    item_id = item.id
    now = now or clock.now()
    digest = fingerprint(data)
    client_id = str(data["client_id"]) if data.get("client_id") else None
    if client_id is not None:
        existing = _note_by(actor.id, client_id)
        if existing is not None:
            return _replay(existing, digest, item), False
    _lock(item)
    if item.status == "done":
        raise Conflict("rectification_done")
    claim = bool(data.get("claim_done"))
    note = RectificationNote(item=item, author_id=actor.id, client_id=client_id,
                             kind="claim" if claim else "note", note=data["note"].strip(),
                             request_digest=digest, at=now)
    before = item.status
    item.status = "done_claimed" if claim else (
        "in_progress" if item.status == "open" else item.status)
    item.updated_at = now
    db.session.add(note)
    try:
        db.session.flush()
    except IntegrityError:  # the same client_id arrived twice at once: answer the first
        db.session.rollback()
        existing = _note_by(actor.id, client_id) if client_id else None
        if existing is None:
            raise
        return _replay(existing, digest, db.session.get(Rectification, item_id)), False
    record(actor.id, "rectification", item.id, note.kind,
           {"status": [before, item.status]}, at=now)
    return item, True


def _note_by(author_id: int, client_id: str) -> RectificationNote | None:
    return db.session.scalar(select(RectificationNote).where(
        RectificationNote.author_id == author_id, RectificationNote.client_id == client_id))


def _replay(note: RectificationNote, digest: str, item: Rectification) -> Rectification:
    if note.request_digest != digest or note.item_id != item.id:
        raise Conflict("client_id_reused")
    return item


def review_item(actor: User, item: Rectification, decision: str, comment: str | None, *,
                now: datetime | None = None) -> Rectification:
    """Confirm an item claimed done, or send it back to in progress with a comment (a
    supervisor in scope)."""
    policy.ensure(_may_decide(actor, item.unit))
    if decision == "send_back" and not (comment or "").strip():
        raise InvalidInput("comment_required", errors={"comment": ["required"]})
    _lock(item)
    if item.status != "done_claimed":
        raise Conflict("rectification_not_claimed", state=item.status)
    now = now or clock.now()
    before = item.status
    item.status = "done" if decision == "confirm" else "in_progress"
    item.updated_at = now
    db.session.add(RectificationNote(item=item, author_id=actor.id, kind=decision,
                                     note=(comment or "").strip() or None, at=now))
    db.session.flush()
    record(actor.id, "rectification", item.id, decision,
           {"status": [before, item.status], "comment": comment}, at=now)
    return item
