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
    """One recorded change; dumps an ``AuditEvent`` (``actor_name`` is null for the server's)."""

    id = fields.Integer()
    at = LocalDateTime()
    actor_id = fields.Integer(allow_none=True)
    actor_name = fields.String(attribute="actor.name", allow_none=True, dump_default=None)
    entity = fields.String()
    key = fields.String(attribute="entity_key")
    action = fields.String()
    changes = fields.Dict()
