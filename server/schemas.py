"""Field types shared by every area's schemas."""
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import current_app
from marshmallow import Schema, fields, validate

UNIT_CODE = validate.Regexp(r"^[0-9A-Za-z]{1,20}$", error="1–20 letters or digits")
VILLAGE_CODE = validate.Regexp(r"^[0-9]{12}$", error="12 digits")


def Text(max_length: int, **kw):  # noqa: N802 - reads like a field type
    """A string field of 1..max_length characters, whitespace trimmed by the caller."""
    return fields.String(validate=validate.Length(min=1, max=max_length), **kw)


def OptionalText(max_length: int, **kw):  # noqa: N802
    return fields.String(validate=validate.Length(max=max_length), allow_none=True, **kw)


class LocalDateTime(fields.AwareDateTime):
    """An ISO 8601 time that must carry an offset; output in the deployment's time zone."""

    def __init__(self, **kw):
        super().__init__(format="iso", **kw)

    def _serialize(self, value: datetime | None, attr, obj, **kw):
        if value is not None:
            value = value.astimezone(ZoneInfo(current_app.config["TIMEZONE"]))
        return super()._serialize(value, attr, obj, **kw)


class Coordinate:
    @staticmethod
    def lat(**kw):
        return fields.Float(validate=validate.Range(-90, 90), allow_nan=False, **kw)

    @staticmethod
    def lon(**kw):
        return fields.Float(validate=validate.Range(-180, 180), allow_nan=False, **kw)


CRS = fields.String(validate=validate.OneOf(["wgs84", "gcj02"]), load_default="wgs84")


class MessageSchema(Schema):
    code = fields.String()
    message = fields.String()
