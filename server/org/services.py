"""Creating and changing units, villages, users and links; shared by API, CLI and imports."""
from __future__ import annotations

from sqlalchemy import bindparam, select

from .. import policy
from ..audit.models import record
from ..auth.models import FIELD_ROLES, User
from ..auth.passwords import check_policy, hash_password, one_time_password
from ..auth.services import revoke_all_tokens
from ..auth.usernames import username_key
from ..errors import Conflict, Forbidden, InvalidInput
from ..extensions import db
from ..geo import gcj02_to_wgs84
from .models import UNIT_LEVELS, LinkedVillage, Unit, Village


def unit_dict(unit: Unit) -> dict:
    return {"code": unit.code, "name": unit.name, "level": unit.level,
            "parent_code": unit.parent.code if unit.parent else None}


def village_dict(village: Village) -> dict:
    return {"code": village.code, "name": village.name, "township_code": village.township.code,
            "lat": village.lat, "lon": village.lon, "radius_m": village.radius_m}


def user_dict(user: User) -> dict:
    return {"id": user.id, "username": user.username, "name": user.name, "role": user.role,
            "unit_code": user.unit.code if user.unit else None,
            "unit_name": user.unit.name if user.unit else None,
            "active_from": user.active_from, "active_until": user.active_until,
            "active": user.active, "must_change_password": user.must_change_password}


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

def create_unit(actor: User | None, data: dict) -> Unit:
    """Create a unit below its parent (admins in scope; ``actor`` None: the command line)."""
    parent = find_unit(data.get("parent_code"), "parent_code", actor)
    level = data["level"]
    if parent is not None and UNIT_LEVELS.index(parent.level) >= UNIT_LEVELS.index(level):
        raise InvalidInput("bad_parent", errors={"parent_code": ["level"]}, code=parent.code)
    if actor is not None:
        policy.ensure(policy.can_write_org(actor, parent) if parent else
                      policy.can_write_org(actor, None) and actor.unit_id is None)
    if db.session.scalar(select(Unit.id).where(Unit.code == data["code"])):
        raise Conflict("duplicate", errors={"code": ["duplicate"]}, what="unit", value=data["code"])
    unit = Unit(code=data["code"], name=data["name"].strip(), level=level, parent=parent,
                path=(parent.path if parent else "/") + data["code"] + "/")
    db.session.add(unit)
    return unit


# --- villages -----------------------------------------------------------------------------

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
    township = township_for_village(actor, data["township_code"])
    if db.session.scalar(select(Village.id).where(Village.code == data["code"])):
        raise Conflict("duplicate", errors={"code": ["duplicate"]}, what="village",
                       value=data["code"])
    lat, lon = to_wgs84(data["lat"], data["lon"], data.get("crs"))
    village = Village(code=data["code"], name=data["name"].strip(), township=township,
                      lat=lat, lon=lon, radius_m=data.get("radius_m") or 1000)
    db.session.add(village)
    return village


def update_village(actor: User, village: Village, data: dict) -> Village:
    """Change name, point or radius (audited; flags of old visits stay as they were)."""
    policy.ensure(policy.can_write_org(actor, village.township))
    before = village_dict(village)
    if "name" in data:
        village.name = data["name"].strip()
    if "lat" in data:
        village.lat, village.lon = to_wgs84(data["lat"], data["lon"], data.get("crs"))
    if "radius_m" in data:
        village.radius_m = data["radius_m"]
    after = village_dict(village)
    changes = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
    record(actor.id, "village", village.code, "updated", changes)
    db.session.commit()
    return village


def get_village(actor: User, code: str) -> Village:
    village = db.session.scalar(select(Village).where(Village.code == code))
    policy.ensure_visible(village is not None and policy.can_read_org(actor, village.township))
    return village


# --- users --------------------------------------------------------------------------------

def check_role_unit(role: str, unit: Unit | None) -> None:
    """Cadres and secretaries belong to a township; supervisors to some unit."""
    if role in FIELD_ROLES and (unit is None or unit.level != "township"):
        raise InvalidInput("unit_not_township", errors={"unit_code": ["township required"]},
                           code=unit.code if unit else "")
    if role == "supervisor" and unit is None:
        raise InvalidInput("unit_required", errors={"unit_code": ["required"]})


def ensure_may_place(actor: User | None, unit: Unit | None) -> None:
    """An admin may only place people in their own scope."""
    if actor is None:
        return
    allowed = policy.can_write_org(actor, unit) if unit else \
        actor.role == "admin" and actor.unit_id is None
    policy.ensure(allowed, "out_of_scope", {"unit_code": ["out of scope"]})


def create_user(actor: User | None, data: dict, must_change_password: bool = False) -> User:
    """Create a user after checking the password policy, role, unit and scope."""
    unit = find_unit(data.get("unit_code"), actor=actor)
    check_role_unit(data["role"], unit)
    ensure_may_place(actor, unit)
    check_policy(data["username"], data["password"])
    if db.session.scalar(select(User.id).where(
            User.username_key == username_key(data["username"]))):
        raise Conflict("duplicate", errors={"username": ["duplicate"]}, what="username",
                       value=data["username"])
    user = User(username=data["username"], name=data["name"].strip(), role=data["role"],
                unit=unit, active_from=data.get("active_from"),
                active_until=data.get("active_until"), active=True,
                password_hash=hash_password(data["password"]),
                must_change_password=must_change_password)
    db.session.add(user)
    return user


def get_user_for_org(actor: User, user_id: int) -> User:
    """A user the actor may administer or read (supervisors read), else 404."""
    user = db.session.get(User, user_id)
    policy.ensure_visible(user is not None and (
        policy.can_read_org(actor, user.unit) or
        (actor.role == "admin" and actor.unit_id is None)))
    return user


def update_user(actor: User, user: User, data: dict) -> User:
    """Change a user; ``active: false`` deactivates and revokes every token."""
    policy.ensure(policy.is_admin(actor))
    ensure_may_place(actor, user.unit)
    before = user_dict(user)
    unit = find_unit(data["unit_code"], actor=actor) if "unit_code" in data else user.unit
    role = data.get("role", user.role)
    check_role_unit(role, unit)
    ensure_may_place(actor, unit)
    start = data.get("active_from", user.active_from)
    end = data.get("active_until", user.active_until)
    if start and end and end < start:
        raise InvalidInput("invalid_input", errors={"active_until": ["before active_from"]})
    user.unit, user.role, user.active_from, user.active_until = unit, role, start, end
    if "name" in data:
        user.name = data["name"].strip()
    if data.get("active") is False and user.active:
        revoke_all_tokens(user.id)
    if "active" in data:
        user.active = data["active"]
    after = user_dict(user)
    record(actor.id, "user", user.id, "updated",
           {k: [str(before[k]), str(after[k])] for k in after if before[k] != after[k]})
    db.session.commit()
    return user


def reset_password(actor: User, user: User) -> str:
    """Give the user a one-time password (returned once) and end their sessions."""
    policy.ensure(policy.is_admin(actor))
    ensure_may_place(actor, user.unit)
    password = one_time_password()
    user.password_hash = hash_password(password)
    user.must_change_password = True
    revoke_all_tokens(user.id)
    record(actor.id, "user", user.id, "password_reset")
    db.session.commit()
    return password


def set_linked_villages(actor: User | None, user: User, codes: list[str]) -> User:
    """Replace the villages a cadre or secretary is linked to (all in their township)."""
    if actor is not None:
        policy.ensure(policy.is_admin(actor))
        ensure_may_place(actor, user.unit)
    if user.role not in FIELD_ROLES:
        raise InvalidInput("not_field_user")
    villages = []
    for index, code in enumerate(dict.fromkeys(codes)):
        village = find_village(code, f"village_codes.{index}")
        if village.township_id != user.unit_id:
            raise InvalidInput("linked_village_outside_township",
                               errors={f"village_codes.{index}": ["outside township"]}, code=code)
        villages.append(village)
    keep = {v.id for v in villages}
    user.links = [link for link in user.links if link.village_id in keep]
    have = {link.village_id for link in user.links}
    user.links.extend(LinkedVillage(village=v) for v in villages if v.id not in have)
    if actor is not None:
        record(actor.id, "user", user.id, "linked_villages", {"village_codes": list(codes)})
    return user


def get_unit_in_scope_or_403(actor: User, code: str) -> Unit:
    """A unit named in a filter; unknown or out of scope alike → 403 (nothing leaks)."""
    unit = db.session.scalar(select(Unit).where(Unit.code == code))
    policy.ensure(unit is not None and policy.can_read_org(actor, unit), "out_of_scope")
    return unit

