"""Request and response shapes for the general audit log."""
from marshmallow import Schema, fields, validate

from ..schemas import LocalDateTime, Pattern

AUDITED_ENTITIES = ("village", "user", "absence", "report", "opening_balance")


class AuditQuerySchema(Schema):
    entity = fields.String(required=True, validate=validate.OneOf(AUDITED_ENTITIES))
    key = fields.String(required=True, validate=Pattern(r"^[0-9A-Za-z/]{1,64}$"),
                        metadata={"description": "A village's code; a user's, absence's or "
                                                 "report's id; an opening balance's user_id/year"})


class AuditEventSchema(Schema):
    id = fields.Integer()
    at = LocalDateTime()
    actor_id = fields.Integer(allow_none=True)
    actor_name = fields.String(allow_none=True)
    entity = fields.String()
    key = fields.String()
    action = fields.String()
    changes = fields.Dict()
