"""Thematic report endpoints.

Each view hands the service the actor, the data and the time, and returns the report(s) the
service gave for ``ReportSchema`` to dump; access is the services' to check, and the request's
commit point commits (docs/decisions.md, "One commit point").
"""
from flask_smorest import Blueprint

from .. import clock
from ..auth.request_auth import current_user
from . import services
from .schemas import ReportCreateSchema, ReportQuerySchema, ReportReviewSchema, ReportSchema

blp = Blueprint("reports", __name__, url_prefix="/api/v1", description="Thematic reports")


@blp.route("/reports", methods=["POST"])
@blp.arguments(ReportCreateSchema)
@blp.response(201, ReportSchema)
@blp.alt_response(200, schema=ReportSchema, description="A replay: the report as it is now")
def post_report(args):
    """File a thematic report (a secretary; or a supervisor for a secretary, with user_id)."""
    report, created = services.create_report(current_user(), args, now=clock.now())
    return report, 201 if created else 200


@blp.route("/reports", methods=["GET"])
@blp.arguments(ReportQuerySchema, location="query")
@blp.response(200, ReportSchema(many=True))
def list_reports(args):
    """List the reports the caller may read."""
    return services.list_reports(current_user(), args)


@blp.route("/reports/<int:report_id>", methods=["GET"])
@blp.response(200, ReportSchema)
def get_report(report_id):
    """Show one report."""
    return services.load_report(current_user(), report_id)


@blp.route("/reports/<int:report_id>/withdraw", methods=["POST"])
@blp.response(200, ReportSchema)
def post_withdraw(report_id):
    """Withdraw a submitted report."""
    actor = current_user()
    return services.withdraw_report(actor, services.load_report(actor, report_id),
                                    now=clock.now())


@blp.route("/reports/<int:report_id>/review", methods=["POST"])
@blp.arguments(ReportReviewSchema)
@blp.response(200, ReportSchema)
def post_review(args, report_id):
    """Acknowledge or reject a report (supervisor in scope)."""
    actor = current_user()
    return services.review_report(actor, services.load_report(actor, report_id),
                                  args["decision"], args.get("comment"), now=clock.now())
