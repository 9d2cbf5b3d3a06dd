"""Field types shared by every area's schemas."""
from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import current_app
from marshmallow import Schema, ValidationError, fields, validate
from werkzeug.routing import BaseConverter, IntegerConverter

MAX_ID = 2**31 - 1  # PostgreSQL's INTEGER: a larger id is bad input, not a database error


class Pattern(validate.Regexp):
    """A regex the whole value must match, as the document (ECMA) reads it: Python's ``$``
    alone would also let a trailing newline through ("AB\\n" for ``^[A-Z]+$``)."""

    def __call__(self, value):
        if self.regex.fullmatch(value) is None:
            raise ValidationError(self._format_error(value))
        return value


UNIT_CODE = Pattern(r"^[0-9A-Za-z]{1,20}$", error="1–20 letters or digits")
VILLAGE_CODE = Pattern(r"^[0-9]{12}$", error="12 digits")


def Text(max_length: int, **kw):  # noqa: N802 - reads like a field type
    """A string field of 1..max_length characters, whitespace trimmed by the caller."""
    return fields.String(validate=validate.Length(min=1, max=max_length), **kw)


def OptionalText(max_length: int, **kw):  # noqa: N802
    return fields.String(validate=validate.Length(max=max_length), allow_none=True, **kw)


class Flag(fields.Boolean):
    """A JSON boolean: ``true`` or ``false`` only (marshmallow would also take 0, 1, "yes"…,
    which the document does not allow)."""

    def _deserialize(self, value, attr, data, **kw) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value


def Id(**kw):  # noqa: N802 - reads like a field type
    """A row id given by the client (a body field or a query argument)."""
    return fields.Integer(validate=validate.Range(1, MAX_ID), **kw)


def decimal_at_most(limit: int) -> str:
    """A regex matching the unsigned decimal numbers from 0 to ``limit``."""
    digits = str(limit)
    options = [rf"\d{{1,{len(digits) - 1}}}"] if len(digits) > 1 else []
    for i, digit in enumerate(digits):
        lowest = 1 if i == 0 and len(digits) > 1 else 0
        if int(digit) > lowest:
            rest = len(digits) - i - 1
            tail = rf"\d{{{rest}}}" if rest else ""
            options.append(f"{digits[:i]}[{lowest}-{int(digit) - 1}]{tail}")
    options.append(digits)
    return "(?:" + "|".join(options) + ")"


class IdConverter(IntegerConverter):
    """The ``int`` of a route (``<int:user_id>``, ``<int:year>``): within the database's
    INTEGER, so an absurd number is routed nowhere (404 for every method) instead of
    overflowing a query. The bound is in the regex because routing answers 405 when only
    ``max`` refuses a number that another method's rule would have matched."""

    regex = decimal_at_most(MAX_ID)

    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ID)  # documents the bound in the OpenAPI document
        super().__init__(url_map, *args, **kwargs)


class VisitRefConverter(BaseConverter):
    """``<visit_ref:ref>``: a visit's id or its client_id (a UUID), nothing else, so that
    ``/visits/review`` is never taken for a visit and an id never overflows a query."""

    regex = "(?:{}|{})".format(decimal_at_most(MAX_ID), "-?".join(
        f"[0-9A-Fa-f]{{{n}}}" for n in (8, 4, 4, 4, 12)))


# The years the service keeps records for (as ``year`` arguments do): a date outside them is
# bad input, not a calendar computation that overflows or a time zone's 1901 local mean time.
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2100, 12, 31)
SERVICE_YEARS = f"must be between {FIRST_DAY} and {LAST_DAY}"


def Day(**kw):  # noqa: N802 - reads like a field type
    """A date (``YYYY-MM-DD``) within the service's years."""
    return fields.Date(validate=validate.Range(FIRST_DAY, LAST_DAY, error=SERVICE_YEARS),
                       metadata={"description": f"A date that {SERVICE_YEARS}"}, **kw)


class LocalDateTime(fields.AwareDateTime):
    """An ISO 8601 time that must carry an offset, within the service's years; output in the
    deployment's time zone."""

    def __init__(self, **kw):
        super().__init__(format="iso", **kw)

    def _deserialize(self, value, attr, data, **kw) -> datetime:
        moment = super()._deserialize(value, attr, data, **kw)
        if not FIRST_DAY <= moment.date() <= LAST_DAY:
            raise ValidationError(SERVICE_YEARS)
        return moment

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


class ErrorSchema(Schema):
    """The one error shape: a machine code, a readable message, and field errors if any."""
    code = fields.String(required=True)
    message = fields.String(required=True)
    errors = fields.Dict(keys=fields.String())
