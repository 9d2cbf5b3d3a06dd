"""Request and response shapes for thematic reports."""
from marshmallow import Schema, fields, validate

from ..schemas import Day, Id, LocalDateTime, OptionalText, Text
from .models import REPORT_CATEGORIES


class ReportCreateSchema(Schema):
    client_id = fields.UUID(required=True)
    user_id = Id(strict=True)
    reported_on = Day(required=True)
    title = Text(200, required=True)
    category = fields.String(allow_none=True, validate=validate.OneOf(REPORT_CATEGORIES))
    summary = OptionalText(5000)


class ReportReviewSchema(Schema):
    decision = fields.String(required=True, validate=validate.OneOf(["acknowledge", "reject"]))
    comment = OptionalText(2000)


class ReportQuerySchema(Schema):
    user_id = Id()
    year = fields.Integer(validate=validate.Range(2000, 2100))


class ReportSchema(Schema):
    """A report as API.md returns it; dumps a ``ThematicReport``."""

    id = fields.Integer()
    client_id = fields.String()
    user_id = fields.Integer()
    user_name = fields.String(attribute="user.name")
    created_by_id = fields.Integer()
    reported_on = fields.Date()
    title = fields.String()
    category = fields.String(allow_none=True)
    summary = fields.String(allow_none=True)
    status = fields.String()
    counts = fields.Boolean()
    review_comment = fields.String(allow_none=True)
    reviewed_at = LocalDateTime(allow_none=True)
    created_at = LocalDateTime()
