"""Who may do what (API.md "Who may do what"), decided here and nowhere else.

Every function answers one question about an actor and an object. Routes load the object,
ask ``visible``-style questions first (a miss is a 404, so existence does not leak) and
action questions second (a miss is a 403), and only then look at the object's state.
"""
from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.sql import Select

from .auth.models import FIELD_ROLES, User
from .errors import Forbidden, NotFound
from .extensions import db
from .org.models import Unit


def in_scope(actor: User, unit: Unit | None) -> bool:
    """Whether ``unit`` is within a supervisor's or admin's unit (an admin without one: all)."""
    if actor.role == "admin" and actor.unit_id is None:
        return True
    return unit is not None and path_in_scope(actor, unit.path)


def path_in_scope(actor: User, path: str) -> bool:
    """``in_scope`` for a unit known by its path (``Unit.path``)."""
    if actor.role == "admin" and actor.unit_id is None:
        return True
    if actor.role not in ("supervisor", "admin") or actor.unit is None:
        return False
    return path.startswith(actor.unit.path)


def units_of(person: User) -> list[Unit | None]:
    """The units of every post the person has held (one post: their unit, no query)."""
    if not person.several_posts:
        return [person.unit]
    return [post.unit for post in person.posts]


def same_township(actor: User, person: User) -> bool:
    """Whether a secretary and the person share the secretary's township."""
    return actor.role == "secretary" and actor.unit_id is not None \
        and person.unit_id == actor.unit_id


def can_read_person(actor: User, person: User) -> bool:
    """Visits, compliance, reports, absences and audit trails of ``person``: someone who
    moved is read in the scope of every unit they held a post in (their history there is
    that unit's; docs/decisions.md, "Scope over time")."""
    return actor.id == person.id or same_township(actor, person) or \
        any(in_scope(actor, unit) for unit in units_of(person))


def can_see_coordinates(actor: User, person: User) -> bool:
    """A secretary sees colleagues' distances and flags but not their raw coordinates."""
    return actor.id == person.id or in_scope(actor, person.unit)


def can_keep_own_visits(actor: User, person: User) -> bool:
    """Create, check out, explain, withdraw, change village: the person's own visits only
    (someone with several posts may have held a field post then: check-in asks the date)."""
    return (actor.role in FIELD_ROLES or actor.several_posts) and actor.id == person.id


def can_review(actor: User, person: User) -> bool:
    """Review visits and acknowledge or reject reports."""
    return actor.role == "supervisor" and in_scope(actor, person.unit)


def can_record_report_for(actor: User, person: User) -> bool:
    """Record a report given by ``person``: the secretary, or a supervisor in scope."""
    if person.role != "secretary":
        return False
    if actor.id == person.id:
        return True
    return actor.role == "supervisor" and in_scope(actor, person.unit)


def can_manage_absences(actor: User, person: User) -> bool:
    """Enter or withdraw absences of a cadre or secretary: own township's colleagues
    (secretary), or in scope. Nobody else has village days for an absence to stand for."""
    if person.role not in FIELD_ROLES:
        return False
    if actor.role == "secretary":
        return same_township(actor, person) and actor.id != person.id
    return actor.role in ("supervisor", "admin") and in_scope(actor, person.unit)


def can_read_org(actor: User, unit: Unit | None) -> bool:
    """Units, villages, users and linked villages: supervisors and admins read their scope."""
    return in_scope(actor, unit)


def can_write_org(actor: User, unit: Unit | None) -> bool:
    """Create and change units, villages, users, links, imports, balances and calendars."""
    return actor.role == "admin" and in_scope(actor, unit)


def ensure_may_place(actor: User | None, unit: Unit | None) -> None:
    """An admin may only place people in (or move them out of) their own scope; ``actor``
    None is the command line."""
    if actor is None:
        return
    allowed = can_write_org(actor, unit) if unit else \
        actor.role == "admin" and actor.unit_id is None
    ensure(allowed, "out_of_scope", {"unit_code": ["out of scope"]})


def is_org_reader(actor: User) -> bool:
    return actor.role in ("supervisor", "admin")


def is_admin(actor: User) -> bool:
    return actor.role == "admin"


def readable_people(actor: User, query: Select, person_column) -> Select:
    """Restrict a query over people's rows to those ``actor`` may read."""
    if actor.role == "admin" and actor.unit_id is None:
        return query
    if actor.role in ("supervisor", "admin"):
        if actor.unit is None:
            return query.where(False)
        units = select(Unit.id).where(Unit.path.startswith(actor.unit.path, autoescape=True))
        people = select(User.id).where(User.unit_id.in_(units))
        return query.where(person_column.in_(people))
    if actor.role == "secretary" and actor.unit_id is not None:
        colleagues = select(User.id).where(User.unit_id == actor.unit_id)
        return query.where(or_(person_column == actor.id, person_column.in_(colleagues)))
    return query.where(person_column == actor.id)


def readable_rows(actor: User, query: Select, person_column, user_id: int | None) -> Select:
    """People's rows the actor may read, narrowed to one person when ``user_id`` is given.

    A named person out of scope (or unknown) is a 403: a filter, unlike a fetch by id.
    """
    query = readable_people(actor, query, person_column)
    if user_id is None:
        return query
    person = db.session.get(User, user_id)
    ensure(person is not None and can_read_person(actor, person), "out_of_scope")
    return query.where(person_column == person.id)


def readable_units(actor: User, query: Select) -> Select:
    """Restrict a query over units to the actor's scope."""
    if actor.role == "admin" and actor.unit_id is None:
        return query
    if actor.unit is None:
        return query.where(False)
    return query.where(Unit.path.startswith(actor.unit.path, autoescape=True))


def ensure(allowed: bool, code: str = "forbidden", errors: dict | None = None) -> None:
    """Raise Forbidden (403) unless allowed; ``errors`` names the field at fault, if one is."""
    if not allowed:
        raise Forbidden(code, errors=errors)


def ensure_visible(allowed: bool) -> None:
    """Raise NotFound (404) unless the object is visible: its existence must not leak."""
    if not allowed:
        raise NotFound()
