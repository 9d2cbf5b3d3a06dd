"""Field types shared by every area's schemas."""
import re
import unicodedata
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


# Characters no stored text may hold: C0/C1 controls (a note keeps newline and tab), and the
# bidirectional embeddings, overrides, isolates and marks that make text read other than it is
# stored (``\u202eevil``). Lone surrogates cannot be encoded at all (the door refuses them too).
_BIDI = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
_LINE_FORBIDDEN = re.compile(f"[\x00-\x1f\x7f-\x9f{_BIDI}\ud800-\udfff]")
_NOTE_FORBIDDEN = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f{_BIDI}\ud800-\udfff]")
TEXT_REFUSED = "must not hold control characters, bidirectional overrides or lone surrogates"
BLANK = "must not be blank"
# What shows as nothing: besides whitespace and format characters (zero-width space, joiners…),
# the letters that are fillers and the other default-ignorable code points (variation
# selectors, the combining grapheme joiner, Mongolian free variation selectors, …). A text of
# nothing else is blank, and none of it stands at either end of a stored text.
_INVISIBLE = re.compile("[\u034f\u115f\u1160\u17b4\u17b5\u180b-\u180f\u2800\u3164"
                        "\ufe00-\ufe0f\uffa0\ufff0-\ufff8\U000e0100-\U000e01ef]")


def _shows_nothing(ch: str) -> bool:
    return ch.isspace() or unicodedata.category(ch) == "Cf" or _INVISIBLE.match(ch) is not None


def _trimmed(text: str) -> str:
    start, end = 0, len(text)
    while start < end and _shows_nothing(text[start]):
        start += 1
    while end > start and _shows_nothing(text[end - 1]):
        end -= 1
    return text[start:end]


def clean_text(value: str, multiline: bool = False) -> str:
    """Text as stored: NFC-normalised, trimmed of whatever shows nothing at either end
    (spaces, zero-width and other format characters, fillers; a note's CRLF becomes LF). Raises
    ValidationError for control characters (newline and tab only in a note), bidirectional
    overrides and lone surrogates."""
    forbidden = _NOTE_FORBIDDEN if multiline else _LINE_FORBIDDEN
    if multiline:
        value = value.replace("\r\n", "\n")
    if forbidden.search(value):
        raise ValidationError(TEXT_REFUSED)
    return _trimmed(unicodedata.normalize("NFC", value))


class CleanText(fields.String):
    """Free text a person typed (see ``clean_text``). Blank after trimming is refused, except
    in a field that may be null (an optional note), where it is stored as nothing."""

    def __init__(self, *, multiline: bool = False, **kw):
        super().__init__(**kw)
        self.multiline = multiline

    def _deserialize(self, value, attr, data, **kw):
        text = clean_text(super()._deserialize(value, attr, data, **kw), self.multiline)
        if text:
            return text
        if self.allow_none:
            return None
        raise ValidationError(BLANK)

    def _validate(self, value):
        if value is not None:  # a blank optional note became None: nothing left to check
            super()._validate(value)


def Text(max_length: int, **kw):  # noqa: N802 - reads like a field type
    """A one-line text of 1..max_length characters (a name, a title)."""
    return CleanText(validate=validate.Length(min=1, max=max_length), **kw)


def OptionalText(max_length: int, **kw):  # noqa: N802
    """A note: optional, several lines, blank means none."""
    return CleanText(multiline=True, validate=validate.Length(max=max_length), allow_none=True,
                     **kw)


def Note(max_length: int, **kw):  # noqa: N802
    """A note that must be given (an explanation): several lines, never blank."""
    return CleanText(multiline=True, validate=validate.Length(min=1, max=max_length), **kw)


class Username(fields.String):
    """A username as stored (``server/auth/usernames.py``: NFKC, one script, no look-alikes)."""

    def _deserialize(self, value, attr, data, **kw):
        from .auth.usernames import UsernameInvalid, clean_username
        text = super()._deserialize(value, attr, data, **kw)
        if _LINE_FORBIDDEN.search(text):
            raise ValidationError(TEXT_REFUSED)
        try:
            return clean_username(text)
        except UsernameInvalid as exc:
            raise ValidationError(str(exc)) from None


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


# The only spellings taken (RFC 3339's profile of ISO 8601): ``datetime.fromisoformat`` would
# also take week dates (``2026-W10-1``), ordinal dates, a space for ``T`` and offsets without a
# colon, which the document does not allow and no client of ours sends.
DATE_FORMAT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
TIMESTAMP_FORMAT = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,6})?)?"
    r"(?:[+-][0-9]{2}:[0-9]{2}|Z)")
TIMESTAMP_SHAPE = "YYYY-MM-DDTHH:MM[:SS[.ffffff]] with +HH:MM or Z"


def parse_timestamp(raw: str) -> datetime:
    """An aware time in the document's one spelling, within the service's years; raises
    ValueError (with a reason fit to show) for anything else."""
    if not isinstance(raw, str) or TIMESTAMP_FORMAT.fullmatch(raw) is None:
        raise ValueError(f"must be written {TIMESTAMP_SHAPE}")
    moment = datetime.fromisoformat(raw[:-1] + "+00:00" if raw.endswith("Z") else raw)
    if not FIRST_DAY <= moment.date() <= LAST_DAY:
        raise ValueError(SERVICE_YEARS)
    return moment


class StrictDate(fields.Date):
    """``YYYY-MM-DD`` and nothing else."""

    def _deserialize(self, value, attr, data, **kw) -> date:
        if not isinstance(value, str) or DATE_FORMAT.fullmatch(value) is None:
            raise ValidationError("must be written YYYY-MM-DD")
        return super()._deserialize(value, attr, data, **kw)


def Day(**kw):  # noqa: N802 - reads like a field type
    """A date (``YYYY-MM-DD``) within the service's years."""
    metadata = {"description": f"A date that {SERVICE_YEARS}", **kw.pop("metadata", {})}
    return StrictDate(validate=validate.Range(FIRST_DAY, LAST_DAY, error=SERVICE_YEARS),
                      metadata=metadata, **kw)


class LocalDateTime(fields.AwareDateTime):
    """A time in the document's one spelling (``parse_timestamp``), within the service's
    years; output in the deployment's time zone."""

    def __init__(self, **kw):
        super().__init__(format="iso", **kw)

    def _deserialize(self, value, attr, data, **kw) -> datetime:
        try:
            return parse_timestamp(value)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None

    def _serialize(self, value: datetime | None, attr, obj, **kw):
        if value is not None:
            value = value.astimezone(ZoneInfo(current_app.config["TIMEZONE"]))
        return super()._serialize(value, attr, obj, **kw)


class Number(fields.Float):
    """A JSON number: a string (``"30.1"``), a boolean or NaN is refused, not converted."""

    def __init__(self, **kw):
        super().__init__(allow_nan=False, **kw)

    def _deserialize(self, value, attr, data, **kw) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.make_error("invalid", input=value)
        return super()._deserialize(value, attr, data, **kw)


class Coordinate:
    @staticmethod
    def lat(**kw):
        return Number(validate=validate.Range(-90, 90), **kw)

    @staticmethod
    def lon(**kw):
        return Number(validate=validate.Range(-180, 180), **kw)


CRS = fields.String(validate=validate.OneOf(["wgs84", "gcj02"]), load_default="wgs84")


class ObjectSchema(Schema):
    """A schema that dumps an object's attributes (never keys): marshmallow first tries
    ``obj[key]``, which for an object that forwards unknown attributes (``ShownVisit``) costs
    an exception per field."""

    def get_attribute(self, obj, attr, default):
        return getattr(obj, attr, default)


class ErrorSchema(Schema):
    """The one error shape: a machine code, a readable message, and field errors if any."""
    code = fields.String(required=True)
    message = fields.String(required=True)
    errors = fields.Dict(keys=fields.String())
