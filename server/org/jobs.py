"""CSV imports too large for one request run as jobs: kept in the database, run in a thread.

``POST /api/v1/imports/<kind>`` with more data rows than ``IMPORT_SYNC_MAX_ROWS`` answers 202
at once with the job (``Location``: its status URL). The job runs in a thread of the process
that took the file (the file stays in that process's memory; it is never stored), with its
own app context, one job at a time per process (others wait as ``queued``); it goes through
the same steps as a small file (``server/org/imports.py``). Any process answers
``GET /api/v1/imports/jobs/<id>`` from the ``import_jobs`` table: only to the admin who
started the job (anyone else: 404).

While a job is queued or running its row gets a heartbeat every second with its phase and
progress. A job with no heartbeat for ``IMPORT_JOB_STALE_S`` seconds (its process died or was
restarted) is reported failed. A job marks itself done in the very transaction that writes its
rows, and only while it is still running, so a job once reported failed never writes anything.

Imported users' one-time passwords are kept in the job's row until its owner first reads the
finished job: that answer carries them, and they are erased from the row in the same step.
Unread, they are erased a day after the job finished; finished jobs are deleted after a week.
"""
from __future__ import annotations

import logging
import threading
import time
import uuid
from datetime import datetime, timedelta

from flask import Flask, current_app, url_for
from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Integer,
    String,
    delete,
    func,
    select,
    update,
)
from sqlalchemy.engine import Connection
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Mapped, mapped_column

from ..auth.models import User
from ..db_types import UTCDateTime, utcnow
from ..errors import ApiError, NotFound, Throttled
from ..extensions import db
from ..field_messages import localize_errors
from ..messages import message, prefers_english
from .imports import (
    CsvInvalid,
    ImportCancelled,
    Table,
    check_users,
    check_villages,
    write_users,
    write_villages,
)

log = logging.getLogger(__name__)

KINDS = ("villages", "users")
STATUSES = ("queued", "running", "done", "failed")
ACTIVE = ("queued", "running")
BEAT_S = 1.0  # heartbeat and progress at most this often
PASSWORDS_KEPT = timedelta(days=1)  # unread one-time passwords are erased after this
JOBS_KEPT = timedelta(days=7)  # finished jobs are deleted after this

# Messages about a job itself (the API's shared ones are in server/messages.py).
JOB_MESSAGES = {
    "import_interrupted": (
        "导入中断（处理它的服务进程已停止），未导入任何行。请重新导入该文件。",
        ("The import was interrupted (the process running it stopped); no row was imported. "
         "Import the file again.")),
}


class ImportJob(db.Model):
    """A CSV import running, or run, in the background (``server/org/jobs.py``)."""

    __tablename__ = "import_jobs"
    __table_args__ = (
        CheckConstraint("kind IN ('villages', 'users')", name="kind"),
        CheckConstraint("status IN ('queued', 'running', 'done', 'failed')", name="status"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(10))
    # checking, hashing or writing while running; the last one reported, once finished
    phase: Mapped[str | None] = mapped_column(String(10))
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    total_rows: Mapped[int] = mapped_column(Integer)
    done_rows: Mapped[int] = mapped_column(Integer, default=0)
    imported: Mapped[int | None] = mapped_column(Integer)
    # why it failed: {"code", "params"?, "errors"?} or {"code": "csv_invalid", "rows": [...]}
    error: Mapped[dict | None] = mapped_column(JSON(none_as_null=True))
    # {username: one-time password} until the owner has read them once
    one_time_passwords: Mapped[dict | None] = mapped_column(JSON(none_as_null=True))
    passwords_given_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    heartbeat_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


JOBS = ImportJob.__table__
_turns = threading.BoundedSemaphore(1)  # one job at a time in a process; the others queue


class JobGone(Exception):
    """The job was reported failed (no heartbeat in time) while it was still working."""


# --- starting ---------------------------------------------------------------------------------

def stale_before() -> datetime:
    return utcnow() - timedelta(seconds=int(current_app.config["IMPORT_JOB_STALE_S"]))


def start(actor: User, kind: str, table: Table) -> ImportJob:
    """Store a queued job for ``table`` and start its thread; 429 while the actor already has
    one queued or running (each holds a whole file in memory until it ends)."""
    now = utcnow()
    db.session.execute(delete(JOBS).where(JOBS.c.finished_at < now - JOBS_KEPT))
    db.session.execute(update(JOBS).where(
        JOBS.c.one_time_passwords.is_not(None), JOBS.c.finished_at < now - PASSWORDS_KEPT
    ).values(one_time_passwords=None))
    running = db.session.scalar(select(func.count()).select_from(ImportJob).where(
        ImportJob.owner_id == actor.id, ImportJob.status.in_(ACTIVE),
        ImportJob.heartbeat_at >= stale_before()))
    if running:
        db.session.commit()
        raise Throttled("too_many_requests", headers={
            "Retry-After": str(current_app.config["RETRY_AFTER_S"])})
    job = ImportJob(id=uuid.uuid4().hex, kind=kind, status="queued", owner_id=actor.id,
                    total_rows=len(table), done_rows=0, created_at=now, heartbeat_at=now)
    db.session.add(job)
    db.session.commit()
    language = "en" if prefers_english() else "zh-CN"  # of the row errors' messages
    thread = threading.Thread(target=_run, name=f"import-{job.id}", daemon=True, args=(
        current_app._get_current_object(), job.id, actor.id, table, language))
    thread.start()
    return job


def status_url(job: ImportJob) -> str:
    return url_for("org.get_import_job", ref=job.id)


# --- running ----------------------------------------------------------------------------------

def _run(app: Flask, job_id: str, owner_id: int, table: Table, language: str) -> None:
    """The job's thread: its own app context, and a request context only so that row errors
    are worded in the language of the request that started the job."""
    with app.test_request_context(headers={"Accept-Language": language}):
        try:
            _work(job_id, owner_id, table)
        except Exception:  # a thread's last resort: log it, the job is failed
            log.exception("import job %s failed", job_id)
            _finish_failed(job_id, {"code": "internal_error"})
        finally:
            db.session.remove()


class Heartbeat:
    """The job's ``progress``: writes phase, rows done and the time to its row, at most every
    BEAT_S (at once on a new phase), on a connection of its own. JobGone when the job is no
    longer queued or running (reported failed meanwhile)."""

    def __init__(self, job_id: str):
        self.job_id = job_id
        self.last = 0.0
        self.phase: str | None = None

    def __call__(self, phase: str, done: int, total: int) -> None:
        now = time.monotonic()
        if phase == self.phase and now - self.last < BEAT_S:
            return
        self.phase, self.last = phase, now
        try:
            with db.engine.begin() as connection:
                kept = connection.execute(update(JOBS).where(
                    JOBS.c.id == self.job_id, JOBS.c.status.in_(ACTIVE)).values(
                    phase=phase, done_rows=done, heartbeat_at=utcnow())).rowcount
        except OperationalError as exc:  # a busy or absent database: try next time
            log.warning("import job %s: no heartbeat written (%s)", self.job_id, exc)
            return
        if not kept:
            raise JobGone()


def _work(job_id: str, owner_id: int, table: Table) -> None:
    beat = Heartbeat(job_id)
    try:
        while not _turns.acquire(timeout=BEAT_S):
            beat("queued", 0, len(table))
    except JobGone:
        log.warning("import job %s was reported failed while it waited", job_id)
        return
    try:
        with db.engine.begin() as connection:
            if not connection.execute(update(JOBS).where(
                    JOBS.c.id == job_id, JOBS.c.status == "queued").values(
                    status="running", started_at=utcnow(), heartbeat_at=utcnow())).rowcount:
                return  # reported failed while it waited
        actor = db.session.get(User, owner_id)
        if table.kind == "villages":
            plan = check_villages(actor, table, beat)
            write_villages(plan, _finish_done(job_id, None), beat)
        else:
            plan = check_users(actor, table, beat)
            passwords = {user["username"]: password
                         for user, password in zip(plan.users, plan.passwords)}
            write_users(plan, _finish_done(job_id, passwords), beat)
    except (JobGone, ImportCancelled):
        log.warning("import job %s was reported failed before it ended", job_id)
    except CsvInvalid as exc:
        _finish_failed(job_id, {"code": "csv_invalid", "rows": exc.problems})
    except ApiError as exc:  # a key taken by someone else meanwhile (409), or the like
        _finish_failed(job_id, {"code": exc.code, "params": exc.params, "errors": exc.errors})
    except OperationalError as exc:
        log.warning("import job %s: database unavailable (%s)", job_id, exc)
        _finish_failed(job_id, {"code": "unavailable"})
    finally:
        _turns.release()


def _finish_done(job_id: str, passwords: dict | None):
    """The write's last statement, in its transaction: done, if the job is still running."""
    def finish(connection: Connection, imported: int) -> bool:
        return connection.execute(update(JOBS).where(
            JOBS.c.id == job_id, JOBS.c.status == "running").values(
            status="done", imported=imported, one_time_passwords=passwords,
            done_rows=JOBS.c.total_rows, finished_at=utcnow(), heartbeat_at=utcnow())
        ).rowcount == 1
    return finish


def _finish_failed(job_id: str, error: dict) -> None:
    db.session.rollback()
    try:
        with db.engine.begin() as connection:
            connection.execute(update(JOBS).where(
                JOBS.c.id == job_id, JOBS.c.status.in_(ACTIVE)).values(
                status="failed", error=error, finished_at=utcnow()))
    except OperationalError as exc:  # the heartbeat stops; it is reported failed later
        log.warning("import job %s: failure not recorded (%s)", job_id, exc)


# --- reading ----------------------------------------------------------------------------------

def job_for(actor: User, job_id: str) -> ImportJob:
    """The actor's own job (404 for anyone else's, as for none); one whose heartbeat stopped
    is failed first."""
    job = db.session.get(ImportJob, job_id) if len(job_id) <= 32 else None
    if job is None or job.owner_id != actor.id or actor.role != "admin":
        raise NotFound()
    cutoff = stale_before()
    if job.status in ACTIVE and job.heartbeat_at < cutoff:
        db.session.execute(update(JOBS).where(
            JOBS.c.id == job.id, JOBS.c.status.in_(ACTIVE), JOBS.c.heartbeat_at < cutoff
        ).values(status="failed", error={"code": "import_interrupted"}, finished_at=utcnow()))
        db.session.commit()
        db.session.refresh(job)
    return job


def take_passwords(job: ImportJob) -> dict | None:
    """The finished job's one-time passwords, once: erased in the same step (of two readers at
    once, only one gets them). None when already given or never made."""
    if job.status != "done" or job.one_time_passwords is None:
        return None
    passwords = job.one_time_passwords
    if job.finished_at < utcnow() - PASSWORDS_KEPT:
        passwords = None
    taken = db.session.execute(update(JOBS).where(
        JOBS.c.id == job.id, JOBS.c.one_time_passwords.is_not(None)).values(
        one_time_passwords=None, passwords_given_at=utcnow())).rowcount == 1
    db.session.commit()
    db.session.refresh(job)
    return passwords if taken else None


def error_body(error: dict | None) -> dict | None:
    """A failed job's error in the API's error shape (a csv_invalid one exactly as the 422 of
    a small file), worded in the reader's language."""
    if error is None:
        return None
    code = error["code"]
    if code == "csv_invalid":
        rows = error.get("rows", [])
        return {"code": code, "message": message(code, count=len(rows)),
                "errors": {"rows": rows}}
    if code in JOB_MESSAGES:
        zh, en = JOB_MESSAGES[code]
        return {"code": code, "message": en if prefers_english() else zh}
    body = {"code": code, "message": message(code, **(error.get("params") or {}))}
    if error.get("errors"):
        body["errors"] = localize_errors(error["errors"], prefers_english())
    return body


def job_dict(job: ImportJob, passwords: dict | None = None) -> dict:
    """The job as the API shows it (``ImportJobSchema``)."""
    result = None
    if job.status == "done":
        result = {"imported": job.imported}
        if passwords is not None:
            result["one_time_passwords"] = passwords
    return {"id": job.id, "kind": job.kind, "status": job.status, "phase": job.phase,
            "total_rows": job.total_rows, "done_rows": job.done_rows,
            "created_at": job.created_at, "started_at": job.started_at,
            "finished_at": job.finished_at, "status_url": status_url(job),
            "result": result, "error": error_body(job.error),
            "passwords_given_at": job.passwords_given_at}


def wants_job(table: Table) -> bool:
    """Whether a file is too large to import within the request."""
    return len(table) > int(current_app.config["IMPORT_SYNC_MAX_ROWS"])

