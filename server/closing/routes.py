"""Closing a year (API.md "Closing a year"). Views hand the services the actor and the data;
the commit point commits."""
from flask_smorest import Blueprint

from .. import clock
from ..auth.request_auth import current_user
from ..progress.export import attachment
from . import services
from .schemas import ClosingCreateSchema, ClosingQuerySchema, ClosingSchema, ReopenSchema

blp = Blueprint("closing", __name__, url_prefix="/api/v1",
                description="Closing a year (封存): the snapshot of a county's results")


@blp.route("/closings", methods=["POST"])
@blp.arguments(ClosingCreateSchema)
@blp.response(201, ClosingSchema)
def post_closing(args):
    """Close a year for a county (a supervisor of the county or above, an admin in scope):
    every person's results are stored with their SHA-256, and writes to the year refused;
    409 ``pending_reviews`` (with ``count``) while visits of the year await review."""
    return services.close_year(current_user(), args["year"], args["unit_code"],
                               args.get("note"), now=clock.now())


@blp.route("/closings", methods=["GET"])
@blp.arguments(ClosingQuerySchema, location="query")
@blp.response(200, ClosingSchema(many=True))
def list_closings(args):
    """The closings in scope, reopened ones included, newest first."""
    return services.list_closings(current_user(), args.get("unit_code"))


@blp.route("/closings/<int:year>/<unit_code>/reopen", methods=["POST"])
@blp.arguments(ReopenSchema)
@blp.response(200, ClosingSchema)
def post_reopen(args, year, unit_code):
    """Reopen a closed year (an admin in scope, with a reason; audited). The snapshot stays;
    closing again stores a new one."""
    return services.reopen_year(current_user(), year, unit_code, args["reason"],
                                now=clock.now())


@blp.route("/closings/<int:closing_id>/snapshot", methods=["GET"])
@blp.response(200, description="The snapshot's canonical JSON, byte for byte as hashed",
              content_type="application/json")
def get_snapshot(closing_id):
    """The stored snapshot as a file, so anyone can check its SHA-256."""
    closing = services.load_closing(current_user(), closing_id)
    name = f"closing-{closing.unit_code}-{closing.year}-{closing.snapshot_sha256[:12]}.json"
    return attachment(closing.snapshot.encode(), name, "application/json")
