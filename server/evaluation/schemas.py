"""Request and response shapes of rectification items and the evaluation pack."""
from marshmallow import Schema, fields, validate

from ..org.schemas import PostSchema
from ..progress.schemas import (
    YEAR,
    ClosedSchema,
    CoverageSchema,
    PersonSummarySchema,
    RuleResultSchema,
)
from ..schemas import UNIT_CODE, Day, Flag, LocalDateTime, Note, OptionalText, Text


class RectificationCreateSchema(Schema):
    unit_code = fields.String(required=True, validate=UNIT_CODE, metadata={
        "description": "The township the critique point is for"})
    year = fields.Integer(required=True, strict=True, validate=YEAR, metadata={
        "description": "The year the meeting judged"})
    title = Text(200, required=True)
    detail = OptionalText(5000)
    due = Day(allow_none=True)


class RectificationQuerySchema(Schema):
    unit_code = fields.String(validate=UNIT_CODE)
    year = fields.Integer(validate=YEAR)


class RectificationNoteCreateSchema(Schema):
    client_id = fields.UUID(metadata={
        "description": "The phone's id for this note: a replay answers the item as it is now"})
    note = Note(2000, required=True)
    claim_done = Flag(load_default=False)


class RectificationReviewSchema(Schema):
    decision = fields.String(required=True, validate=validate.OneOf(["confirm", "send_back"]))
    comment = OptionalText(2000, metadata={"description": "Required to send it back"})


class RectificationNoteSchema(Schema):
    id = fields.Integer()
    at = LocalDateTime()
    by = fields.String(attribute="author.name")
    by_id = fields.Integer(attribute="author_id")
    kind = fields.String(metadata={"enum": ["note", "claim", "confirm", "send_back"]})
    note = fields.String(allow_none=True)


class RectificationSchema(Schema):
    """An item as API.md returns it; dumps a ``Rectification``."""
    id = fields.Integer()
    unit_code = fields.String()
    unit_name = fields.String()
    year = fields.Integer()
    title = fields.String()
    detail = fields.String(allow_none=True)
    due = fields.Date(allow_none=True)
    status = fields.String(metadata={"enum": ["open", "in_progress", "done_claimed", "done"]})
    created_at = LocalDateTime()
    updated_at = LocalDateTime()
    notes = fields.List(fields.Nested(RectificationNoteSchema))


class EvaluationQuerySchema(Schema):
    unit_code = fields.String(required=True, validate=UNIT_CODE)
    format = fields.String(validate=validate.OneOf(["json", "xlsx"]), load_default="json")


class PackReportSchema(Schema):
    id = fields.Integer()
    reported_on = fields.Date()
    title = fields.String()
    status = fields.String()


class FlaggedSchema(Schema):
    approved = fields.Integer()
    rejected = fields.Integer()
    pending = fields.Integer()


class AbsenceDaysSchema(Schema):
    leave = fields.Integer(metadata={"description": "working days"})
    training = fields.Integer(metadata={"description": "working days"})
    official_duty = fields.Integer(metadata={"description": "working days"})


class PackPersonSchema(Schema):
    user = fields.Nested(PersonSummarySchema)
    post_ended = fields.Boolean()
    posts = fields.List(fields.Nested(PostSchema), metadata={
        "description": "The posts held at some time in the year"})
    village_days_by_month = fields.List(fields.Float(), metadata={
        "description": "Village days credited in each month, January first (12 numbers)"})
    rules = fields.List(fields.Nested(RuleResultSchema))
    reports = fields.List(fields.Nested(PackReportSchema))
    coverage = fields.Nested(CoverageSchema)
    households = fields.Integer()
    visits = fields.Integer(metadata={"description": "counting visits"})
    flagged = fields.Nested(FlaggedSchema, metadata={
        "description": "visits with a flag, by what became of them"})
    absences = fields.Nested(AbsenceDaysSchema)


class PackUnitSchema(Schema):
    code = fields.String()
    name = fields.String()
    county = fields.String(allow_none=True)


class EvaluationPackSchema(Schema):
    unit = fields.Nested(PackUnitSchema)
    year = fields.Integer()
    as_of = fields.Date()
    people = fields.List(fields.Nested(PackPersonSchema), metadata={
        "description": "The secretary first, then the team in pinyin order; no score, no rank"})
    rectifications = fields.List(fields.Nested(RectificationSchema), metadata={
        "description": "The township's items of the year before, with their notes"})
    closed = fields.Nested(ClosedSchema, metadata={
        "description": "A closed year: the results are its snapshot's (RULES.md §9)"})
