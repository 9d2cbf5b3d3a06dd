"""Request and response shapes for logging in and passwords."""
from marshmallow import Schema, fields, validate

from ..org.schemas import UserSchema


class LoginSchema(Schema):
    username = fields.String(required=True, validate=validate.Length(min=1, max=64))
    password = fields.String(required=True, validate=validate.Length(min=1, max=200))


class TokenSchema(Schema):
    token = fields.String()
    expires_at = fields.AwareDateTime(format="iso")
    user = fields.Nested(UserSchema)


class PasswordChangeSchema(Schema):
    old_password = fields.String(required=True, validate=validate.Length(max=200))
    new_password = fields.String(required=True, validate=validate.Length(max=200))


class UnlockSchema(Schema):
    username = fields.String(required=True, validate=validate.Length(min=1, max=64))
