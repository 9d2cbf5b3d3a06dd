"""Reading the general audit log (villages, users, absences, reports, opening balances)."""
from flask_smorest import Blueprint

from ..auth.request_auth import current_user
from ..schemas import ErrorSchema
from . import services
from .schemas import AuditEventSchema, AuditQuerySchema

blp = Blueprint("audit", __name__, url_prefix="/api/v1", description="The audit log")


@blp.route("/audit", methods=["GET"])
@blp.arguments(AuditQuerySchema, location="query")
@blp.response(200, AuditEventSchema(many=True))
@blp.alt_response(404, schema=ErrorSchema, description="No such object in the caller's scope")
def list_audit_events(args):
    """Every recorded change of one object, oldest first (supervisors and admins, in scope)."""
    return services.events_of(current_user(), args["entity"], args["key"])
