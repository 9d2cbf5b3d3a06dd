"""Creating, changing and listing units, villages, users and links; shared by API, CLI, demo
and imports.

Each service takes the actor and its data explicitly and works in one order: load → check
access (``server/policy.py``; API.md "Who may do what") → act. Services flush, never commit:
the request's commit point commits (docs/decisions.md, "One commit point"); a command-line
command or the demo commits once at its end; CSV imports (``imports.py``, ``jobs.py``) are
their own units of work. ``actor`` None is the command line (no scope applies).
"""
from __future__ import annotations

from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError

from .. import policy
from ..audit.models import record
from ..auth.models import FIELD_ROLES, User
from ..auth.passwords import check_policy, hash_password, one_time_password
from ..auth.services import revoke_all_tokens
from ..auth.usernames import username_key
from ..clock import today
from ..closing import guard
from ..errors import Conflict, Forbidden, InvalidInput
from ..extensions import db
from ..geo import gcj02_to_wgs84
from ..progress.rollup import pinyin_key
from . import posts
from .models import UNIT_LEVELS, Post, Unit, Village
from .posts import check_role_unit

# What the audit trail compares before and after a change (the attributes the API shows).
_VILLAGE_AUDITED = ("code", "name", "township_code", "lat", "lon", "radius_m")
_USER_AUDITED = ("id", "username", "name", "role", "unit_code", "unit_name", "active_from",
                 "active_until", "active", "must_change_password")


def _snapshot(obj, names: tuple[str, ...]) -> dict:
    return {name: getattr(obj, name) for name in names}


def _insert(obj, duplicate: Conflict) -> None:
    """Add and flush ``obj``; a concurrent insert of the same code is the same Conflict as one
    found beforehand (the commit point rolls the request back)."""
    db.session.add(obj)
    try:
        db.session.flush()
    except IntegrityError:
        raise duplicate from None


def require_org_reader(actor: User) -> None:
    """Units, villages and users are read by supervisors and admins (403 for anyone else)."""
    policy.ensure(policy.is_org_reader(actor))


def require_admin(actor: User | None) -> None:
    """Org writes are an admin's (403 for anyone else); the command line (None) may."""
    if actor is not None:
        policy.ensure(policy.is_admin(actor))


def find_unit(code: str | None, field: str = "unit_code", actor: User | None = None) -> Unit | None:
    """Return the unit with this code (None for no code); InvalidInput when unknown.

    With an ``actor`` (an admin placing something), a unit outside their scope is refused as
    Forbidden exactly as an unknown code is, before anything about the unit is looked at, so
    that an answer never tells whether an out-of-scope code exists or what level it is."""
    if code is None:
        return None
    unit = db.session.scalar(select(Unit).where(Unit.code == code))
    if actor is not None and not policy.can_write_org(actor, unit):
        raise Forbidden("out_of_scope", errors={field: ["out of scope"]})
    if unit is None:
        raise InvalidInput("unknown_unit", errors={field: ["unknown"]}, code=code)
    return unit


def check_found_unit(unit: Unit | None, code: str, field: str = "unit_code",
                     actor: User | None = None) -> Unit:
    """``find_unit``'s refusals, in its order, for a unit already looked up (a CSV import
    reads every unit its file names in one query): out of scope before unknown."""
    if actor is not None and not policy.can_write_org(actor, unit):
        raise Forbidden("out_of_scope", errors={field: ["out of scope"]})
    if unit is None:
        raise InvalidInput("unknown_unit", errors={field: ["unknown"]}, code=code)
    return unit


VILLAGE_BY_CODE = select(Village).where(Village.code == bindparam("code"))


def unknown_village(code: str, field: str = "village_code") -> InvalidInput:
    return InvalidInput("unknown_village", errors={field: ["unknown"]}, code=code)


def find_village(code: str, field: str = "village_code") -> Village:
    village = db.session.scalar(VILLAGE_BY_CODE, {"code": code})
    if village is None:
        raise unknown_village(code, field)
    return village


def to_wgs84(lat: float, lon: float, crs: str | None) -> tuple[float, float]:
    """Return a WGS-84 point, converting from GCJ-02 when that is what was given."""
    return gcj02_to_wgs84(lat, lon) if crs == "gcj02" else (lat, lon)


# --- units --------------------------------------------------------------------------------

def list_units(actor: User, level: str | None = None) -> list[Unit]:
    """The units in the actor's scope, by path; of one level when ``level`` is given."""
    require_org_reader(actor)
    query = policy.readable_units(actor, select(Unit)).order_by(Unit.path)
    if level is not None:
        query = query.where(Unit.level == level)
    return list(db.session.scalars(query))


def create_unit(actor: User | None, data: dict) -> Unit:
    """Create a unit below its parent (admins in scope; ``actor`` None: the command line)."""
    require_admin(actor)
    parent = find_unit(data.get("parent_code"), "parent_code", actor)
    level = data["level"]
    if parent is not None and UNIT_LEVELS.index(parent.level) >= UNIT_LEVELS.index(level):
        raise InvalidInput("bad_parent", errors={"parent_code": ["level"]}, code=parent.code)
    if actor is not None:
        policy.ensure(policy.can_write_org(actor, parent) if parent else
                      policy.can_write_org(actor, None) and actor.unit_id is None)
    duplicate = Conflict("duplicate", errors={"code": ["duplicate"]}, what="unit",
                         value=data["code"])
    if db.session.scalar(select(Unit.id).where(Unit.code == data["code"])):
        raise duplicate
    unit = Unit(code=data["code"], name=data["name"].strip(), level=level, parent=parent,
                path=(parent.path if parent else "/") + data["code"] + "/")
    _insert(unit, duplicate)
    return unit


def get_unit_in_scope_or_403(actor: User, code: str) -> Unit:
    """A unit named in a filter; unknown or out of scope alike → 403 (nothing leaks)."""
    unit = db.session.scalar(select(Unit).where(Unit.code == code))
    policy.ensure(unit is not None and policy.can_read_org(actor, unit), "out_of_scope")
    return unit


# --- villages -----------------------------------------------------------------------------

def list_villages(actor: User, township_code: str | None = None) -> list[Village]:
    """Villages in the actor's scope, by code; of one township (in scope, else 403) when
    ``township_code`` is given."""
    require_org_reader(actor)
    units = policy.readable_units(actor, select(Unit.id))
    if township_code is not None:
        units = units.where(Unit.id == get_unit_in_scope_or_403(actor, township_code).id)
    query = select(Village).where(Village.township_id.in_(units)).order_by(Village.code)
    return list(db.session.scalars(query))


def township_villages(actor: User) -> list[Village]:
    """The villages of the township of the actor's cadre or secretary post today, to check in
    where they are (none without one; docs/decisions.md, "Check-in village list")."""
    township = posts.field_township_on(actor, today())
    if township is None:
        return []
    query = select(Village).where(Village.township_id == township).order_by(Village.code)
    return list(db.session.scalars(query))


def township_for_village(actor: User | None, code: str) -> Unit:
    township = find_unit(code, "township_code", actor)
    if township.level != "township":
        raise InvalidInput("unit_not_township", errors={"township_code": ["not a township"]},
                           code=code)
    if actor is not None:  # the field is named so an import's row error names the column
        policy.ensure(policy.can_write_org(actor, township), "out_of_scope",
                      {"township_code": ["out of scope"]})
    return township


def create_village(actor: User | None, data: dict) -> Village:
    """Create a village; a GCJ-02 point is stored as WGS-84."""
    require_admin(actor)
    township = township_for_village(actor, data["township_code"])
    duplicate = Conflict("duplicate", errors={"code": ["duplicate"]}, what="village",
                         value=data["code"])
    if db.session.scalar(select(Village.id).where(Village.code == data["code"])):
        raise duplicate
    lat, lon = to_wgs84(data["lat"], data["lon"], data.get("crs"))
    village = Village(code=data["code"], name=data["name"].strip(), township=township,
                      lat=lat, lon=lon, radius_m=data.get("radius_m") or 1000)
    _insert(village, duplicate)
    return village


def update_village(actor: User, village: Village, data: dict) -> Village:
    """Change name, point or radius (audited; flags of old visits stay as they were:
    docs/rules.md §1). ``village`` is loaded by ``get_village``."""
    policy.ensure(policy.can_write_org(actor, village.township))
    before = _snapshot(village, _VILLAGE_AUDITED)
    if "name" in data:
        village.name = data["name"].strip()
    if "lat" in data:
        village.lat, village.lon = to_wgs84(data["lat"], data["lon"], data.get("crs"))
    if "radius_m" in data:
        village.radius_m = data["radius_m"]
    after = _snapshot(village, _VILLAGE_AUDITED)
    changes = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
    record(actor.id, "village", village.code, "updated", changes)
    db.session.flush()
    return village


def get_village(actor: User, code: str) -> Village:
    """A village the actor may read (supervisors and admins in scope); 403 for other roles,
    404 when unknown or out of scope."""
    require_org_reader(actor)
    village = db.session.scalar(select(Village).where(Village.code == code))
    policy.ensure_visible(village is not None and policy.can_read_org(actor, village.township))
    return village


# --- users --------------------------------------------------------------------------------

def list_users(actor: User, unit_code: str | None = None, role: str | None = None) -> list[User]:
    """People in the actor's scope, by unit code and then the name's pinyin (RULES.md §6: in
    Python, never by database collation); of one unit and below (in scope, else 403) when
    ``unit_code`` is given, of one role when ``role`` is."""
    require_org_reader(actor)
    query = policy.readable_people(actor, select(User), User.id)
    unit = get_unit_in_scope_or_403(actor, unit_code) if unit_code is not None else None
    if unit is not None:
        query = policy.readable_people_in(query, User.id, select(Unit.id).where(
            Unit.path.startswith(unit.path, autoescape=True)))
    people = list(db.session.scalars(query))
    for person in people:
        posts.refresh_summary(person)  # someone whose move took effect: shown where they are
    if unit is not None:
        people = [p for p in people if p.unit is not None and unit.contains(p.unit)]
    if role is not None:
        people = [p for p in people if p.role == role]
    return sorted(people, key=lambda u: (u.unit_code or "", pinyin_key(u.name), u.name, u.id))


def create_user(actor: User | None, data: dict, must_change_password: bool = False) -> User:
    """Create a user after checking the password policy, role, unit and scope."""
    require_admin(actor)
    unit = find_unit(data.get("unit_code"), actor=actor)
    check_role_unit(data["role"], unit)
    policy.ensure_may_place(actor, unit)
    check_policy(data["username"], data["password"])
    duplicate = Conflict("duplicate", errors={"username": ["duplicate"]}, what="username",
                         value=data["username"])
    if db.session.scalar(select(User.id).where(
            User.username_key == username_key(data["username"]))):
        raise duplicate
    user = User(username=data["username"], name=data["name"].strip(), role=data["role"],
                unit=unit, active=True, password_hash=hash_password(data["password"]),
                must_change_password=must_change_password)
    start, end = data.get("active_from"), data.get("active_until")
    if start is None:
        guard.hold_every_year()
        start = guard.opening_day(guard.in_force(), [unit])
    else:
        guard.ensure_open(guard.years_between(start, end), [unit])
    posts.first_post(user, unit, data["role"], start, end)
    _insert(user, duplicate)
    return user


def get_user_for_org(actor: User, user_id: int) -> User:
    """A user the actor may administer or read (supervisors read): 403 for other roles, 404
    when unknown or out of scope."""
    require_org_reader(actor)
    user = db.session.get(User, user_id)
    policy.ensure_visible(user is not None and (
        any(policy.can_read_org(actor, unit) for unit in policy.units_of(user)) or
        (actor.role == "admin" and actor.unit_id is None)))
    posts.refresh_summary(user)
    return user


def update_user(actor: User, user: User, data: dict) -> User:
    """Change a user (``user`` loaded by ``get_user_for_org``); ``active: false`` deactivates
    and revokes every token (docs/security.md, "Accounts, tokens and passwords")."""
    policy.ensure(policy.is_admin(actor))
    policy.ensure_may_place(actor, user.unit)
    unit = find_unit(data["unit_code"], actor=actor) if "unit_code" in data else user.unit
    role = data.get("role", user.role)
    check_role_unit(role, unit)
    policy.ensure_may_place(actor, unit)
    start = data.get("active_from", user.active_from)
    end = data.get("active_until", user.active_until)
    if start and end and end < start:
        raise InvalidInput("invalid_input", errors={"active_until": ["before active_from"]})
    before = _snapshot(user, _USER_AUDITED)
    posts.edit_in_effect(user, unit, role, start, end)
    if "name" in data:
        user.name = data["name"].strip()
    if data.get("active") is False and user.active:
        revoke_all_tokens(user.id)
    if "active" in data:
        user.active = data["active"]
    after = _snapshot(user, _USER_AUDITED)
    record(actor.id, "user", user.id, "updated",
           {k: [str(before[k]), str(after[k])] for k in after if before[k] != after[k]})
    db.session.flush()
    return user


def reset_password(actor: User, user: User) -> str:
    """Give the user a one-time password (returned once) and end their sessions
    (docs/decisions.md, "Accounts")."""
    policy.ensure(policy.is_admin(actor))
    policy.ensure_may_place(actor, user.unit)
    password = one_time_password()
    user.password_hash = hash_password(password)
    user.must_change_password = True
    revoke_all_tokens(user.id)
    record(actor.id, "user", user.id, "password_reset")
    db.session.flush()
    return password


def set_linked_villages(actor: User | None, user: User, codes: list[str],
                        start=None) -> User:
    """Make ``codes`` the villages linked to a cadre or secretary from ``start``, all in the
    township of the post they hold then; links not listed end the day before (RULES.md §8).
    Without ``start``: today, or — for someone linked to no village before — with no start,
    as their first links always were (docs/decisions.md, "Dated links")."""
    if actor is not None:
        policy.ensure(policy.is_admin(actor))
        policy.ensure_may_place(actor, user.unit)
    posts.lock(user)
    on = start or today()
    post = posts.field_post_on(user, on)
    if post is None and not any(p.role in FIELD_ROLES for p in user.posts):
        raise InvalidInput("not_field_user")
    if post is None:
        raise InvalidInput("links_no_post", errors={"from": ["no post on this date"]}, date=on)
    policy.ensure_may_place(actor, post.unit)
    villages = []
    for index, code in enumerate(dict.fromkeys(codes)):
        village = find_village(code, f"village_codes.{index}")
        if village.township_id != post.unit_id:
            raise InvalidInput("linked_village_outside_township",
                               errors={f"village_codes.{index}": ["outside township"]}, code=code)
        villages.append(village)
    if start is None and user.links:
        start = today()
    if start is None:  # first links: from always, but not into a closed year
        guard.hold_every_year()
        start = guard.opening_day(guard.in_force(), guard.person_units(
            user, guard.years_between(None, None)))
    guard.ensure_person_open(user, guard.years_between(start, post.ends_on))
    posts.relink(user, post, villages, start)
    if actor is not None:
        record(actor.id, "user", user.id, "linked_villages",
               {"village_codes": list(codes), "from": str(start) if start else None})
    db.session.flush()
    return user


# --- posts ----------------------------------------------------------------------------------

def list_posts(actor: User, user: User) -> list[Post]:
    """The person's posts, oldest first (``user`` loaded by ``get_user_for_org``)."""
    return posts.in_order(user.posts)


def change_post(actor: User | None, user: User, data: dict) -> Post:
    """A transfer or change of role from ``data["starts_on"]`` (admins, for people in scope
    and to a unit in scope)."""
    require_admin(actor)
    policy.ensure_may_place(actor, user.unit)
    unit = find_unit(data.get("unit_code"), actor=actor)
    check_role_unit(data["role"], unit)
    policy.ensure_may_place(actor, unit)
    posts.lock(user)
    for cut in posts.cut_by(user, data["starts_on"]):  # the posts it ends must be theirs too
        policy.ensure_may_place(actor, cut.unit)
    return posts.change_post(actor, user, unit, data["role"], data["starts_on"])


def correct_post(actor: User | None, user: User, post_id: int, data: dict) -> Post:
    """Correct a post's dates (admins, for people in scope; audited)."""
    require_admin(actor)
    policy.ensure_may_place(actor, user.unit)
    posts.lock(user)
    post = posts.find_post(user, post_id)
    policy.ensure_may_place(actor, post.unit)
    return posts.correct_post(actor, user, post, data)


def links_of(user: User, on) -> dict:
    """The villages linked to a person on a date, and every link they have had."""
    return {"user_id": user.id, "on": on,
            "village_codes": sorted(link.village.code for link in user.links_on(on)),
            "links": [{"village_code": link.village.code, "village_name": link.village.name,
                       "from": link.starts_on, "until": link.ends_on}
                      for link in sorted(user.links, key=lambda k: (
                          k.starts_on or posts.NO_START, k.village.code))]}
