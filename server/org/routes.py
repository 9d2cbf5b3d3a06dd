"""Units, villages, users, linked villages, imports and ``/me``.

The views read the request and hand the services the actor and the data; the services load,
check access and act (``services.py``), and the schemas dump the objects they return. The
request's commit point commits (docs/decisions.md, "One commit point").
"""
from flask import jsonify
from flask_smorest import Blueprint

from .. import policy
from ..auth.request_auth import current_user
from ..clock import today
from ..schemas import ErrorSchema
from ..uploads import CSV_UPLOAD, uploaded_text
from . import jobs, services
from .imports import import_posts, import_users, import_villages, read_table
from .schemas import (
    ImportJobSchema,
    ImportResultSchema,
    LinkedVillagesOnSchema,
    LinkedVillagesQuerySchema,
    LinkedVillagesSchema,
    MeSchema,
    OneTimePasswordSchema,
    PostCreateSchema,
    PostImportQuerySchema,
    PostImportResultSchema,
    PostPatchSchema,
    PostSchema,
    UnitCreateSchema,
    UnitQuerySchema,
    UnitSchema,
    UserCreateSchema,
    UserDetailSchema,
    UserPatchSchema,
    UserQuerySchema,
    UserSchema,
    VillageCreateSchema,
    VillagePatchSchema,
    VillageQuerySchema,
    VillageSchema,
)

blp = Blueprint("org", __name__, url_prefix="/api/v1", description="Organisation")


@blp.route("/units", methods=["GET"])
@blp.arguments(UnitQuerySchema, location="query")
@blp.response(200, UnitSchema(many=True))
def list_units(args):
    """List the units in the caller's scope."""
    return services.list_units(current_user(), args.get("level"))


@blp.route("/units", methods=["POST"])
@blp.arguments(UnitCreateSchema)
@blp.response(201, UnitSchema)
def post_unit(args):
    """Create a unit (admin, below a unit in scope)."""
    return services.create_unit(current_user(), args)


@blp.route("/villages", methods=["GET"])
@blp.arguments(VillageQuerySchema, location="query")
@blp.response(200, VillageSchema(many=True))
def list_villages(args):
    """List villages in scope, optionally of one township."""
    return services.list_villages(current_user(), args.get("township_code"))


@blp.route("/villages", methods=["POST"])
@blp.arguments(VillageCreateSchema)
@blp.response(201, VillageSchema)
def post_village(args):
    """Create a village; send ``crs: gcj02`` for points read from Chinese map services."""
    return services.create_village(current_user(), args)


@blp.route("/villages/<code>", methods=["GET"])
@blp.response(200, VillageSchema)
def get_village_view(code):
    """Show one village."""
    return services.get_village(current_user(), code)


@blp.route("/villages/<code>", methods=["PATCH"])
@blp.arguments(VillagePatchSchema)
@blp.response(200, VillageSchema)
def patch_village(args, code):
    """Change a village's name, point or radius (audited; applies to new visits only)."""
    actor = current_user()
    return services.update_village(actor, services.get_village(actor, code), args)


@blp.route("/users", methods=["GET"])
@blp.arguments(UserQuerySchema, location="query")
@blp.response(200, UserSchema(many=True))
def list_users(args):
    """List users in scope, optionally of one unit and below."""
    return services.list_users(current_user(), args.get("unit_code"), args.get("role"))


@blp.route("/users", methods=["POST"])
@blp.arguments(UserCreateSchema)
@blp.response(201, UserSchema)
def post_user(args):
    """Create a user (admin, in scope)."""
    return services.create_user(current_user(), args)


@blp.route("/users/<int:user_id>", methods=["GET"])
@blp.response(200, UserDetailSchema)
def get_user(user_id):
    """Show one user, with the codes of the villages they are linked to."""
    return services.get_user_for_org(current_user(), user_id)


@blp.route("/users/<int:user_id>", methods=["PATCH"])
@blp.arguments(UserPatchSchema)
@blp.response(200, UserSchema)
def patch_user(args, user_id):
    """Change a user; ``active: false`` deactivates and revokes their tokens."""
    actor = current_user()
    return services.update_user(actor, services.get_user_for_org(actor, user_id), args)


@blp.route("/users/<int:user_id>/reset-password", methods=["POST"])
@blp.response(200, OneTimePasswordSchema)
def post_reset_password(user_id):
    """Give the user a one-time password, shown once; they must change it at next login."""
    actor = current_user()
    user = services.get_user_for_org(actor, user_id)
    return {"user": user, "one_time_password": services.reset_password(actor, user)}


@blp.route("/users/<int:user_id>/linked-villages", methods=["PUT"])
@blp.arguments(LinkedVillagesSchema)
@blp.response(200, MeSchema)
def put_linked_villages(args, user_id):
    """Make these the villages a cadre or secretary is linked to from ``from`` (default
    today); links not listed end the day before, and stay in the history."""
    actor = current_user()
    person = services.get_user_for_org(actor, user_id)
    return services.set_linked_villages(actor, person, args["village_codes"],
                                        args.get("starts_on"))


@blp.route("/users/<int:user_id>/linked-villages", methods=["GET"])
@blp.arguments(LinkedVillagesQuerySchema, location="query")
@blp.response(200, LinkedVillagesOnSchema)
def get_linked_villages(args, user_id):
    """The codes of the villages linked to the person on ``on`` (default today), and every
    link they have had, with its dates."""
    person = services.get_user_for_org(current_user(), user_id)
    return services.links_of(person, args.get("on") or today())


@blp.route("/users/<int:user_id>/posts", methods=["GET"])
@blp.response(200, PostSchema(many=True))
def list_posts(user_id):
    """The person's posts, oldest first (supervisors read their scope)."""
    actor = current_user()
    return services.list_posts(actor, services.get_user_for_org(actor, user_id))


@blp.route("/users/<int:user_id>/posts", methods=["POST"])
@blp.arguments(PostCreateSchema)
@blp.response(201, PostSchema)
def post_post(args, user_id):
    """A transfer (调动) or a change of role (任职) from ``from``: the current post ends the
    day before; a transfer ends the links to the old township's villages then too. For
    免职 give a role and unit the person holds no village duty in, or correct the post's
    ``until``."""
    actor = current_user()
    return services.change_post(actor, services.get_user_for_org(actor, user_id), args)


@blp.route("/users/<int:user_id>/posts/<int:post_id>", methods=["PATCH"])
@blp.arguments(PostPatchSchema)
@blp.response(200, PostSchema)
def patch_post(args, user_id, post_id):
    """Correct a post's dates (audited); 422 naming the post it would overlap."""
    actor = current_user()
    return services.correct_post(actor, services.get_user_for_org(actor, user_id), post_id,
                                 args)


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


@blp.route("/imports/posts", methods=["POST"])
@blp.arguments(PostImportQuerySchema, location="query")
@blp.response(201, PostImportResultSchema)
@blp.alt_response(200, schema=PostImportResultSchema,
                  description="dry_run: who would move where; nothing written")
@blp.alt_response(422, schema=ErrorSchema, description="Row errors; nothing imported")
@blp.alt_response(429, response="THROTTLED")
@blp.doc(requestBody=CSV_UPLOAD)
def post_import_posts(args):
    """换届 in bulk: CSV ``username,unit_code,role,from``, one new post a row (all rows or
    none, every error named by row and column). ``dry_run=true`` answers who would move
    where, and writes nothing."""
    actor = current_user()
    policy.ensure(policy.is_admin(actor))
    table = read_table(uploaded_text(), "posts")
    moves = import_posts(actor, table, dry_run=args.get("dry_run", False))
    answer = {"imported": 0 if args.get("dry_run") else len(moves), "moves": moves}
    return (answer, 200) if args.get("dry_run") else answer


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


@blp.route("/me", methods=["GET"])
@blp.response(200, MeSchema)
def get_me():
    """Who I am: user, unit, role and linked villages."""
    return current_user()


@blp.route("/me/villages", methods=["GET"])
@blp.response(200, VillageSchema(many=True))
def get_my_villages():
    """The villages of the township of the post I hold today, to check in where I am
    (cadres and secretaries; none without such a post)."""
    return services.township_villages(current_user())
