"""Visit endpoints: check in, check out, corrections, reviews and the audit trail.

Each view parses the request (the device clock included), hands the service the actor, the
data and the time, and returns what the service gave for the schema to dump. Access is the
services' to check; the request's commit point commits, and runs a view once more when a
concurrent change of the same visit beat it (docs/decisions.md, "One commit point").
"""
from datetime import datetime

from flask import request
from flask_smorest import Blueprint

from .. import clock, policy
from ..auth.request_auth import current_user
from ..errors import BadRequest
from ..schemas import ErrorSchema, parse_timestamp
from . import services
from .schemas import (
    BulkReviewResultSchema,
    BulkReviewSchema,
    CheckOutSchema,
    ExplainSchema,
    ReviewSchema,
    ShownVisit,
    VillageChangeSchema,
    VisitCreateSchema,
    VisitEventSchema,
    VisitQuerySchema,
    VisitSchema,
)

blp = Blueprint("visits", __name__, url_prefix="/api/v1", description="Village visits")


def client_time() -> datetime | None:
    """The device clock from ``X-Client-Time``; a malformed header is refused."""
    raw = request.headers.get("X-Client-Time")
    if not raw:
        return None
    try:
        return parse_timestamp(raw.strip())
    except ValueError:
        raise BadRequest("invalid_client_time") from None


def shown(visit) -> ShownVisit:
    """The visit as the caller is shown it: raw coordinates only if they may see them."""
    return ShownVisit(visit, policy.can_see_coordinates(current_user(), visit.user))


@blp.route("/visits", methods=["POST"])
@blp.arguments(VisitCreateSchema())  # an instance: a class is built anew per request
@blp.response(201, VisitSchema)
@blp.alt_response(200, schema=VisitSchema, description="A replay: the visit as it is now")
@blp.alt_response(409, schema=ErrorSchema, description="client_id reused, or a visit is open")
def post_visit(args):
    """Check in (or record a whole visit); idempotent per user by ``client_id``."""
    visit, created = services.create_visit(current_user(), args, client_time(), now=clock.now())
    return shown(visit), 201 if created else 200


@blp.route("/visits", methods=["GET"])
@blp.arguments(VisitQuerySchema, location="query")
@blp.response(200, VisitSchema(many=True))
@blp.paginate()
def list_visits(args, pagination_parameters):
    """List visits the caller may read (newest first); ``from``/``to`` are local dates."""
    rows, total = services.list_visits(current_user(), args, pagination_parameters.page,
                                       pagination_parameters.page_size)
    pagination_parameters.item_count = total
    return [shown(v) for v in rows]


@blp.route("/visits/<visit_ref:ref>", methods=["GET"])
@blp.response(200, VisitSchema)
def get_visit(ref):
    """Show a visit by id or by one's own client_id."""
    return shown(services.load_visit(current_user(), ref))


@blp.route("/visits/<visit_ref:ref>/events", methods=["GET"])
@blp.response(200, VisitEventSchema(many=True))
def get_visit_events(ref):
    """The visit's audit trail: every state change and correction."""
    return services.visit_events(services.load_visit(current_user(), ref))


@blp.route("/visits/<visit_ref:ref>/check-out", methods=["POST"])
@blp.arguments(CheckOutSchema())
@blp.response(200, VisitSchema)
def post_check_out(args, ref):
    """Check out of an open visit; repeating the same check-out is harmless."""
    actor = current_user()
    visit = services.load_visit(actor, ref, holding=clock.local_date(args["at"]).year)
    return shown(services.check_out(actor, visit, args, client_time(), now=clock.now()))


@blp.route("/visits/<visit_ref:ref>/explain", methods=["POST"])
@blp.arguments(ExplainSchema)
@blp.response(200, VisitSchema)
def post_explain(args, ref):
    """Add an explanation to one's own flagged visit."""
    actor = current_user()
    return shown(services.explain(actor, services.load_visit(actor, ref), args["note"],
                                  now=clock.now()))


@blp.route("/visits/<visit_ref:ref>/withdraw", methods=["POST"])
@blp.response(200, VisitSchema)
def post_withdraw(ref):
    """Withdraw one's own open or pending visit."""
    actor = current_user()
    return shown(services.withdraw(actor, services.load_visit(actor, ref), now=clock.now()))


@blp.route("/visits/<visit_ref:ref>/village", methods=["POST"])
@blp.arguments(VillageChangeSchema)
@blp.response(200, VisitSchema)
def post_change_village(args, ref):
    """Change the village of one's own open visit."""
    actor = current_user()
    return shown(services.change_village(actor, services.load_visit(actor, ref),
                                         args["village_code"], now=clock.now()))


@blp.route("/visits/<visit_ref:ref>/review", methods=["POST"])
@blp.arguments(ReviewSchema)
@blp.response(200, VisitSchema)
def post_review(args, ref):
    """Approve, reject or reopen a visit (supervisor in scope; comment for reject/reopen)."""
    actor = current_user()
    return shown(services.review(actor, services.load_visit(actor, ref), args["decision"],
                                 args.get("comment"), now=clock.now()))


@blp.route("/visits/review", methods=["POST"])
@blp.arguments(BulkReviewSchema)
@blp.response(200, BulkReviewResultSchema)
@blp.alt_response(404, schema=ErrorSchema, description="An id is not a visit the caller may see")
def post_bulk_review(args):
    """Decide several visits at once: all of them or, when one cannot be decided, none."""
    actor = current_user()
    visits = services.review_many(actor, args["ids"], args["decision"], args.get("comment"),
                                  now=clock.now())
    return {"visits": [shown(v) for v in visits]}
