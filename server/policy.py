"""Who may do what (API.md "Who may do what"), decided here and nowhere else.

Every function answers one question about an actor and an object. Routes load the object,
ask ``visible``-style questions first (a miss is a 404, so existence does not leak) and
action questions second (a miss is a 403), and only then look at the object's state.
"""
from __future__ import annotations

from sqlalchemy import or_, select, union
from sqlalchemy.sql import Select

from .auth.models import FIELD_ROLES, User
from .clock import today
from .errors import Forbidden, NotFound
from .extensions import db
from .org import posts
from .org.models import Post, Unit


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
    """The units of the posts the person has begun by today (one post: their unit, no query);
    someone who moved is read in the scope of each (docs/decisions.md, "Scope over time")."""
    if not person.several_posts:
        return [person.unit]
    return [post.unit for post in posts.begun(person)]


def roles_of(person: User) -> set[str]:
    """The roles of the posts the person has begun by today."""
    if not person.several_posts:
        return {person.role}
    return {post.role for post in posts.begun(person)}


def current_unit(person: User) -> Unit | None:
    """The unit of the post in effect today (one post: their unit, no query)."""
    if not person.several_posts:
        return person.unit
    post = posts.current_post(person)
    return post.unit if post is not None else None


def same_township(actor: User, person: User) -> bool:
    """Whether the person held a post in the secretary's township."""
    return actor.role == "secretary" and actor.unit_id is not None and any(
        unit is not None and unit.id == actor.unit_id for unit in units_of(person))


def _in_scope_of(actor: User, person: User) -> bool:
    return any(in_scope(actor, unit) for unit in units_of(person))


def can_read_person(actor: User, person: User) -> bool:
    """Visits, compliance, reports, absences and audit trails of ``person``."""
    return actor.id == person.id or same_township(actor, person) or _in_scope_of(actor, person)


def can_see_coordinates(actor: User, person: User) -> bool:
    """A secretary sees colleagues' distances and flags but not their raw coordinates."""
    return actor.id == person.id or _in_scope_of(actor, person)


def can_keep_own_visits(actor: User, person: User) -> bool:
    """Create, check out, explain, withdraw, change village: the person's own visits only
    (someone with several posts may have held a field post then: check-in asks the date)."""
    return (actor.role in FIELD_ROLES or actor.several_posts) and actor.id == person.id


def can_review(actor: User, person: User) -> bool:
    """Review visits and acknowledge or reject reports."""
    return actor.role == "supervisor" and _in_scope_of(actor, person)


def can_record_report_for(actor: User, person: User) -> bool:
    """Record a report given by ``person``: the secretary, or a supervisor in scope."""
    if "secretary" not in roles_of(person):
        return False
    if actor.id == person.id:
        return True
    return actor.role == "supervisor" and _in_scope_of(actor, person)


def can_manage_absences(actor: User, person: User) -> bool:
    """Enter or withdraw absences of a cadre or secretary: own township's colleagues
    (secretary), or in scope. Nobody else has village days for an absence to stand for."""
    if not roles_of(person) & set(FIELD_ROLES):
        return False
    if actor.role == "secretary":
        return same_township(actor, person) and actor.id != person.id
    return actor.role in ("supervisor", "admin") and _in_scope_of(actor, person)


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


def readable_people(actor: User, query: Select, person_column, moved: bool = True) -> Select:
    """Restrict a query over people's rows to those ``actor`` may read: by their unit, and —
    for people with several posts (``moved``) — by any post they have begun."""
    if actor.role == "admin" and actor.unit_id is None:
        return query
    if actor.role in ("supervisor", "admin"):
        if actor.unit is None:
            return query.where(False)
        units = select(Unit.id).where(Unit.path.startswith(actor.unit.path, autoescape=True))
        return query.where(person_column.in_(_people_in(units, moved)))
    if actor.role == "secretary" and actor.unit_id is not None:
        colleagues = _people_in(select(Unit.id).where(Unit.id == actor.unit_id), moved)
        return query.where(or_(person_column == actor.id, person_column.in_(colleagues)))
    return query.where(person_column == actor.id)


def readable_people_in(query: Select, person_column, units) -> Select:
    """Narrow a query over people's rows to people of ``units`` (a query of unit ids)."""
    return query.where(person_column.in_(_people_in(units, True)))


def _people_in(units, moved: bool):
    people = select(User.id).where(User.unit_id.in_(units))
    if not moved:
        return people
    day = today()
    return union(people, select(Post.user_id).join(User, User.id == Post.user_id).where(
        User.several_posts.is_(True), Post.unit_id.in_(units),
        or_(Post.starts_on.is_(None), Post.starts_on <= day)))


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
