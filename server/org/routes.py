"""Units, villages, users, linked villages, imports and ``/me``."""
from flask import jsonify
from flask_smorest import Blueprint
from sqlalchemy import select

from .. import policy
from ..auth.models import User
from ..auth.services import current_user
from ..extensions import db
from ..schemas import ErrorSchema
from ..uploads import CSV_UPLOAD, uploaded_text
from . import jobs
from .imports import import_users, import_villages, read_table
from .models import Unit, Village
from .schemas import (
    ImportJobSchema,
    ImportResultSchema,
    LinkedVillagesSchema,
    MeSchema,
    OneTimePasswordSchema,
    UnitCreateSchema,
    UnitQuerySchema,
    UnitSchema,
    UserCreateSchema,
    UserPatchSchema,
    UserQuerySchema,
    UserSchema,
    VillageCreateSchema,
    VillagePatchSchema,
    VillageQuerySchema,
    VillageSchema,
)
from .services import (
    create_unit,
    create_user,
    create_village,
    get_unit_in_scope_or_403,
    get_user_for_org,
    get_village,
    reset_password,
    set_linked_villages,
    unit_dict,
    update_user,
    update_village,
    user_dict,
    village_dict,
)

blp = Blueprint("org", __name__, url_prefix="/api/v1", description="Organisation")


def require_org_reader():
    actor = current_user()
    policy.ensure(policy.is_org_reader(actor))
    return actor


@blp.route("/units", methods=["GET"])
@blp.arguments(UnitQuerySchema, location="query")
@blp.response(200, UnitSchema(many=True))
def list_units(args):
    """List the units in the caller's scope."""
    actor = require_org_reader()
    query = policy.readable_units(actor, select(Unit)).order_by(Unit.path)
    if "level" in args:
        query = query.where(Unit.level == args["level"])
    return [unit_dict(u) for u in db.session.scalars(query)]


@blp.route("/units", methods=["POST"])
@blp.arguments(UnitCreateSchema)
@blp.response(201, UnitSchema)
def post_unit(args):
    """Create a unit (admin, below a unit in scope)."""
    actor = current_user()
    policy.ensure(policy.is_admin(actor))
    unit = create_unit(actor, args)
    db.session.commit()
    return unit_dict(unit)


@blp.route("/villages", methods=["GET"])
@blp.arguments(VillageQuerySchema, location="query")
@blp.response(200, VillageSchema(many=True))
def list_villages(args):
    """List villages in scope, optionally of one township."""
    actor = require_org_reader()
    units = policy.readable_units(actor, select(Unit.id))
    if "township_code" in args:
        units = units.where(Unit.id == get_unit_in_scope_or_403(actor, args["township_code"]).id)
    query = select(Village).where(Village.township_id.in_(units)).order_by(Village.code)
    return [village_dict(v) for v in db.session.scalars(query)]


@blp.route("/villages", methods=["POST"])
@blp.arguments(VillageCreateSchema)
@blp.response(201, VillageSchema)
def post_village(args):
    """Create a village; send ``crs: gcj02`` for points read from Chinese map services."""
    actor = current_user()
    policy.ensure(policy.is_admin(actor))
    village = create_village(actor, args)
    db.session.commit()
    return village_dict(village)


@blp.route("/villages/<code>", methods=["GET"])
@blp.response(200, VillageSchema)
def get_village_view(code):
    """Show one village."""
    return village_dict(get_village(require_org_reader(), code))


@blp.route("/villages/<code>", methods=["PATCH"])
@blp.arguments(VillagePatchSchema)
@blp.response(200, VillageSchema)
def patch_village(args, code):
    """Change a village's name, point or radius (audited; applies to new visits only)."""
    actor = require_org_reader()
    return village_dict(update_village(actor, get_village(actor, code), args))


@blp.route("/users", methods=["GET"])
@blp.arguments(UserQuerySchema, location="query")
@blp.response(200, UserSchema(many=True))
def list_users(args):
    """List users in scope, optionally of one unit and below."""
    actor = require_org_reader()
    query = policy.readable_people(actor, select(User), User.id).order_by(User.username)
    if "unit_code" in args:
        unit = get_unit_in_scope_or_403(actor, args["unit_code"])
        query = query.where(User.unit_id.in_(
            select(Unit.id).where(Unit.path.startswith(unit.path, autoescape=True))))
    if "role" in args:
        query = query.where(User.role == args["role"])
    return [user_dict(u) for u in db.session.scalars(query)]


@blp.route("/users", methods=["POST"])
@blp.arguments(UserCreateSchema)
@blp.response(201, UserSchema)
def post_user(args):
    """Create a user (admin, in scope)."""
    actor = current_user()
    policy.ensure(policy.is_admin(actor))
    user = create_user(actor, args)
    db.session.commit()
    return user_dict(user)


@blp.route("/users/<int:user_id>", methods=["GET"])
@blp.response(200, UserSchema)
def get_user(user_id):
    """Show one user, with the codes of the villages they are linked to."""
    user = get_user_for_org(require_org_reader(), user_id)
    return {**user_dict(user), "linked_village_codes": [v.code for v in user.linked_villages]}


@blp.route("/users/<int:user_id>", methods=["PATCH"])
@blp.arguments(UserPatchSchema)
@blp.response(200, UserSchema)
def patch_user(args, user_id):
    """Change a user; ``active: false`` deactivates and revokes their tokens."""
    actor = require_org_reader()
    return user_dict(update_user(actor, get_user_for_org(actor, user_id), args))


@blp.route("/users/<int:user_id>/reset-password", methods=["POST"])
@blp.response(200, OneTimePasswordSchema)
def post_reset_password(user_id):
    """Give the user a one-time password, shown once; they must change it at next login."""
    actor = require_org_reader()
    user = get_user_for_org(actor, user_id)
    password = reset_password(actor, user)
    return {"user": user_dict(user), "one_time_password": password}


@blp.route("/users/<int:user_id>/linked-villages", methods=["PUT"])
@blp.arguments(LinkedVillagesSchema)
@blp.response(200, MeSchema)
def put_linked_villages(args, user_id):
    """Replace the villages a cadre or secretary is linked to."""
    actor = require_org_reader()
    user = set_linked_villages(actor, get_user_for_org(actor, user_id), args["village_codes"])
    db.session.commit()
    return me_dict(user)


def _import(kind: str):
    """A small file now (201, or 422 naming each bad row); a large one as a job (202)."""
    actor = current_user()
    policy.ensure(policy.is_admin(actor))
    table = read_table(uploaded_text(), kind)  # a bad header: 422 at once, at any size
    if jobs.wants_job(table):
        job = jobs.start(actor, kind, table)
        response = jsonify(ImportJobSchema().dump(jobs.job_dict(job)))
        response.status_code = 202
        response.headers["Location"] = jobs.status_url(job)
        return response
    if kind == "villages":
        return {"imported": import_villages(actor, table)}
    passwords = import_users(actor, table)
    return {"imported": len(passwords), "one_time_passwords": passwords}


_JOB_STARTED = ("The file has more rows than IMPORT_SYNC_MAX_ROWS: it is imported by a job; "
                "poll the Location (status_url) until the job is done or failed")


@blp.route("/imports/villages", methods=["POST"])
@blp.response(201, ImportResultSchema)
@blp.alt_response(202, schema=ImportJobSchema, description=_JOB_STARTED,
                  headers={"Location": {"description": "The job's status URL",
                                        "schema": {"type": "string"}}})
@blp.alt_response(422, schema=ErrorSchema, description="Row errors; nothing imported")
@blp.alt_response(429, response="THROTTLED")
@blp.doc(requestBody=CSV_UPLOAD)
def post_import_villages():
    """Import villages from CSV (all rows or none); a large file as a job (202)."""
    return _import("villages")


@blp.route("/imports/users", methods=["POST"])
@blp.response(201, ImportResultSchema)
@blp.alt_response(202, schema=ImportJobSchema, description=_JOB_STARTED,
                  headers={"Location": {"description": "The job's status URL",
                                        "schema": {"type": "string"}}})
@blp.alt_response(422, schema=ErrorSchema, description="Row errors; nothing imported")
@blp.alt_response(429, response="THROTTLED")
@blp.doc(requestBody=CSV_UPLOAD)
def post_import_users():
    """Import users from CSV (all rows or none); returns one-time passwords, once; a large
    file as a job (202), whose status gives them once."""
    return _import("users")


@blp.route("/imports/jobs/<ref>", methods=["GET"])
@blp.response(200, ImportJobSchema)
@blp.alt_response(404, schema=ErrorSchema, description="Not a job the caller started")
def get_import_job(ref):
    """An import job's status and progress (``ref``: the job's ``id``); when done, its result
    (users: the one-time passwords in the first answer only), when failed, its errors. Its
    owner only."""
    actor = current_user()
    job = jobs.job_for(actor, ref)
    return jobs.job_dict(job, jobs.take_passwords(job))


def me_dict(user: User) -> dict:
    county = user.unit.county() if user.unit else None
    return {"user": user_dict(user), "unit": unit_dict(user.unit) if user.unit else None,
            "county_code": county.code if county else None,
            "linked_villages": [village_dict(v) for v in user.linked_villages]}


@blp.route("/me", methods=["GET"])
@blp.response(200, MeSchema)
def get_me():
    """Who I am: user, unit, role and linked villages."""
    return me_dict(current_user())


@blp.route("/me/villages", methods=["GET"])
@blp.response(200, VillageSchema(many=True))
def get_my_villages():
    """The villages of my township, to check in where I am (cadres and secretaries)."""
    actor = current_user()
    if actor.unit is None or actor.unit.level != "township":
        return []
    query = select(Village).where(Village.township_id == actor.unit_id).order_by(Village.code)
    return [village_dict(v) for v in db.session.scalars(query)]
