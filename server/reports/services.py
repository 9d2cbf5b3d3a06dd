"""Filing, reading and deciding on thematic reports (docs/rules.md §7).

Every write service takes its inputs explicitly (the actor, the data and the time ``now``,
which defaults to the clock's) and runs in one order: load → check access → act. It reads no
request and no app setting, and it only flushes: the request's commit point commits
(docs/decisions.md, "One commit point").
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import extract, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from .. import clock, policy
from ..audit.models import record
from ..auth.models import User
from ..closing import guard
from ..errors import Conflict, InvalidInput
from ..extensions import db
from ..fingerprint import fingerprint
from .models import ThematicReport


def _secretary(actor: User, user_id: int | None) -> User:
    """Whose report this is: the caller, or the secretary a supervisor names (403 when the
    actor may not record a report for them)."""
    if user_id is None or user_id == actor.id:
        policy.ensure(policy.can_record_report_for(actor, actor))
        return actor
    person = db.session.get(User, user_id)
    policy.ensure(person is not None and policy.can_record_report_for(actor, person),
                  "out_of_scope")
    return person


def _find(created_by_id: int, client_id: str) -> ThematicReport | None:
    return db.session.scalar(select(ThematicReport).where(
        ThematicReport.created_by_id == created_by_id, ThematicReport.client_id == client_id))


def _replay(report: ThematicReport, digest: str) -> ThematicReport:
    if report.request_digest != digest:
        raise Conflict("client_id_reused")
    return report


def create_report(actor: User, data: dict, *,
                  now: datetime | None = None) -> tuple[ThematicReport, bool]:
    """File a report; idempotent per filer by client_id. Returns it and whether it is new.

    Raises InvalidInput when a supervisor names nobody or the date is in the future,
    Forbidden unless the actor may record a report for the person, Conflict when the
    client_id was used for a different report.
    """
    if actor.role == "supervisor" and data.get("user_id") is None:
        raise InvalidInput("user_id_required", errors={"user_id": ["required"]})
    person = _secretary(actor, data.get("user_id"))
    now = now or clock.now()
    digest = fingerprint(data)
    client_id = str(data["client_id"])
    existing = _find(actor.id, client_id)
    if existing is not None:
        return _replay(existing, digest), False
    if data["reported_on"] > clock.local_date(now):
        raise InvalidInput("date_in_future", errors={"reported_on": ["in the future"]})
    guard.ensure_person_open(person, [data["reported_on"].year])
    report = ThematicReport(client_id=client_id, user_id=person.id, created_by_id=actor.id,
                            reported_on=data["reported_on"], title=data["title"].strip(),
                            category=data.get("category"), summary=data.get("summary"),
                            status="submitted", request_digest=digest, created_at=now)
    db.session.add(report)
    try:
        db.session.flush()
    except IntegrityError:  # a concurrent request filed it first: answer with that one
        db.session.rollback()
        existing = _find(actor.id, client_id)
        if existing is None:
            raise
        return _replay(existing, digest), False
    record(actor.id, "report", report.id, "created", {"user_id": person.id}, at=now)
    return report, True


def load_report(actor: User, report_id: int) -> ThematicReport:
    """The report by id; NotFound (404) when absent or out of the actor's scope."""
    report = db.session.get(ThematicReport, report_id)
    policy.ensure_visible(report is not None and policy.can_read_person(actor, report.user))
    return report


def list_reports(actor: User, args: dict) -> list[ThematicReport]:
    """The reports the actor may read, latest first, of one person and one year if asked."""
    query = policy.readable_rows(actor, select(ThematicReport), ThematicReport.user_id,
                                 args.get("user_id"))
    if "year" in args:
        query = query.where(extract("year", ThematicReport.reported_on) == args["year"])
    return db.session.scalars(query.options(selectinload(ThematicReport.user)).order_by(
        ThematicReport.reported_on.desc(), ThematicReport.id.desc())).all()


def withdraw_report(actor: User, report: ThematicReport, *,
                    now: datetime | None = None) -> ThematicReport:
    """Withdraw a submitted report (its filer or the secretary it belongs to); it stops
    counting (docs/rules.md §7). Withdrawing it again is a no-op."""
    policy.ensure(actor.id in (report.user_id, report.created_by_id))
    if report.status == "withdrawn":
        return report
    if report.status != "submitted":
        raise Conflict("report_not_submitted")
    guard.ensure_person_open(report.user, [report.reported_on.year])
    report.status = "withdrawn"
    record(actor.id, "report", report.id, "withdrawn", at=now or clock.now())
    return report


def review_report(actor: User, report: ThematicReport, decision: str, comment: str | None, *,
                  now: datetime | None = None) -> ThematicReport:
    """Acknowledge or reject a submitted report (a supervisor in scope; a rejection needs a
    comment and stops the report counting, docs/rules.md §7)."""
    policy.ensure(policy.can_review(actor, report.user))
    if decision == "reject" and not (comment or "").strip():
        raise InvalidInput("comment_required", errors={"comment": ["required"]})
    if report.status != "submitted":
        raise Conflict("report_not_submitted")
    guard.ensure_person_open(report.user, [report.reported_on.year])
    now = now or clock.now()
    report.status = "acknowledged" if decision == "acknowledge" else "rejected"
    report.review_comment, report.reviewed_at, report.reviewed_by_id = comment, now, actor.id
    record(actor.id, "report", report.id, report.status, {"comment": comment}, at=now)
    return report
