"""Rectification items and the evaluation pack (API.md "Evaluation pack and rectification
items"). Views hand the services the actor and the data; the commit point commits."""
from flask import jsonify
from flask_smorest import Blueprint

from .. import clock
from ..auth.request_auth import current_user
from ..messages import prefers_english
from ..progress.export import XLSX_TYPE, attachment
from . import rectifications as items
from .export import pack_xlsx
from .pack import evaluation_pack, freeze_pack, township_for_pack
from .schemas import (
    EvaluationPackSchema,
    EvaluationQuerySchema,
    RectificationCreateSchema,
    RectificationNoteCreateSchema,
    RectificationQuerySchema,
    RectificationReviewSchema,
    RectificationSchema,
)

blp = Blueprint("evaluation", __name__, url_prefix="/api/v1",
                description="The year-end evaluation (述职评议考核) and rectification items (整改)")

@blp.route("/evaluations/<int:year>", methods=["GET"])
@blp.arguments(EvaluationQuerySchema, location="query")
@blp.response(200, EvaluationPackSchema)
@blp.alt_response(200, description="format=xlsx: the pack as a workbook",
                  content_type=XLSX_TYPE, success=True)
def get_pack(args, year):
    """A township's evaluation pack for a year (its secretary, or in scope): facts only, the
    secretary first, then the team in pinyin order; ``format=xlsx`` for a workbook."""
    actor = current_user()
    english = prefers_english()
    unit = township_for_pack(actor, args["unit_code"])
    pack = freeze_pack(EvaluationPackSchema().dump(evaluation_pack(actor, year, unit, english)),
                       unit, english)
    if args["format"] == "xlsx":
        name = f"evaluation-{pack['unit']['code']}-{year}.xlsx"
        return attachment(pack_xlsx(pack, english), name, XLSX_TYPE)
    return jsonify(pack)


@blp.route("/rectifications", methods=["POST"])
@blp.arguments(RectificationCreateSchema)
@blp.response(201, RectificationSchema)
def post_item(args):
    """Record a critique point (点评问题) for a township after the meeting (a supervisor)."""
    return items.create_item(current_user(), args, now=clock.now())


@blp.route("/rectifications", methods=["GET"])
@blp.arguments(RectificationQuerySchema, location="query")
@blp.response(200, RectificationSchema(many=True))
def list_items(args):
    """The items of a township (its secretary, or in scope) or of the caller's scope."""
    return items.list_items(current_user(), args.get("unit_code"), args.get("year"))


@blp.route("/rectifications/<int:item_id>", methods=["GET"])
@blp.response(200, RectificationSchema)
def get_item(item_id):
    """One item with its notes."""
    return items.load_item(current_user(), item_id)


@blp.route("/rectifications/<int:item_id>/notes", methods=["POST"])
@blp.arguments(RectificationNoteCreateSchema)
@blp.response(201, RectificationSchema)
@blp.alt_response(200, schema=RectificationSchema,
                  description="A replay of the same client_id: the item as it is now")
def post_note(args, item_id):
    """Add a progress note, or claim the item done (the township's secretary or a supervisor
    in scope); idempotent by ``client_id``."""
    actor = current_user()
    item, added = items.add_note(actor, items.load_item(actor, item_id), args, now=clock.now())
    return item, 201 if added else 200


@blp.route("/rectifications/<int:item_id>/review", methods=["POST"])
@blp.arguments(RectificationReviewSchema)
@blp.response(200, RectificationSchema)
def post_review(args, item_id):
    """Confirm an item claimed done, or send it back with a comment (a supervisor in scope)."""
    actor = current_user()
    return items.review_item(actor, items.load_item(actor, item_id), args["decision"],
                             args.get("comment"), now=clock.now())
