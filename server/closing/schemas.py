"""Request and response shapes of closings (API.md "Closing a year")."""
from marshmallow import Schema, fields

from ..progress.schemas import YEAR
from ..schemas import UNIT_CODE, LocalDateTime, Note, OptionalText


class ClosingCreateSchema(Schema):
    year = fields.Integer(required=True, strict=True, validate=YEAR)
    unit_code = fields.String(required=True, validate=UNIT_CODE, metadata={
        "description": "The county whose year is closed"})
    note = OptionalText(2000)


class ClosingQuerySchema(Schema):
    unit_code = fields.String(validate=UNIT_CODE, metadata={"description": "A county"})


class ReopenSchema(Schema):
    reason = Note(2000, required=True)


class ActorSchema(Schema):
    id = fields.Integer()
    name = fields.String()


class ClosingSchema(Schema):
    """A closing as API.md returns it; dumps a ``Closing``."""
    id = fields.Integer()
    year = fields.Integer()
    unit_code = fields.String()
    unit_name = fields.String()
    as_of = fields.Date(metadata={"description": "The results are as of this date"})
    closed_at = LocalDateTime()
    closed_by = fields.Nested(ActorSchema, allow_none=True)
    note = fields.String(allow_none=True)
    people = fields.Integer(metadata={"description": "Rows in the snapshot"})
    snapshot_sha256 = fields.String()
    reopened_at = LocalDateTime(allow_none=True)
    reopened_by = fields.Nested(ActorSchema, allow_none=True)
    reopen_reason = fields.String(allow_none=True)
