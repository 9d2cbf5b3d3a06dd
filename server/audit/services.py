"""Reading the general audit log, within the reader's scope (docs/security.md, "The audit
trail"): load → check access → read."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from .. import policy
from ..auth.models import User
from ..extensions import db
from ..org.models import Unit, Village
from ..progress.models import Absence
from ..reports.models import ThematicReport
from ..schemas import MAX_ID
from .models import AuditEvent


def events_of(actor: User, entity: str, key: str) -> list[AuditEvent]:
    """Every recorded change of one object, oldest first.

    Raises Forbidden (403) unless the actor is a supervisor or admin, NotFound (404) when the
    object is unknown or outside the actor's scope.
    """
    policy.ensure(policy.is_org_reader(actor))
    found, unit = unit_of(entity, key)
    policy.ensure_visible(found and policy.in_scope(actor, unit))
    return db.session.scalars(select(AuditEvent).where(
        AuditEvent.entity == entity, AuditEvent.entity_key == key)
        .options(selectinload(AuditEvent.actor)).order_by(AuditEvent.id)).all()


def unit_of(entity: str, key: str) -> tuple[bool, Unit | None]:
    """Whether the audited object exists, and the unit that decides who may read its log."""
    if entity == "village":
        village = db.session.scalar(select(Village).where(Village.code == key))
        return village is not None, village.township if village else None
    if entity == "opening_balance":
        key = key.partition("/")[0]  # user_id/year
    row_id = int(key) if key.isascii() and key.isdigit() and int(key) <= MAX_ID else None
    model = {"user": User, "opening_balance": User, "absence": Absence,
             "report": ThematicReport}[entity]
    row = db.session.get(model, row_id) if row_id is not None else None
    if row is None:
        return False, None
    person = row if isinstance(row, User) else row.user
    return True, person.unit
