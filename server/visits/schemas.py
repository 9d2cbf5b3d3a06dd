"""Request and response shapes for visits."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from ..schemas import (
    CRS,
    VILLAGE_CODE,
    CleanText,
    Coordinate,
    Day,
    Flag,
    Id,
    LocalDateTime,
    Note,
    Number,
    ObjectSchema,
    OptionalText,
)
from .models import VISIT_STATUSES

CLIENT_ID = fields.UUID(required=True)


class LocationSchema(Schema):
    lat = Coordinate.lat(required=True)
    lon = Coordinate.lon(required=True)
    accuracy_m = Number(allow_none=True, validate=validate.Range(min=0, max=1_000_000))
    crs = CRS


class CheckInSchema(Schema):
    at = LocalDateTime(required=True)
    location = fields.Nested(LocationSchema, allow_none=True)


class CheckOutPartSchema(CheckInSchema):
    manual = Flag(load_default=False)


class VisitCreateSchema(Schema):
    client_id = CLIENT_ID
    village_code = fields.String(required=True, validate=VILLAGE_CODE)
    activity = CleanText(allow_none=True, validate=validate.Length(max=40))  # blank: none
    check_in = fields.Nested(CheckInSchema, required=True)
    check_out = fields.Nested(CheckOutPartSchema, allow_none=True)
    households = fields.Integer(allow_none=True, strict=True, validate=validate.Range(0, 10_000))
    note = OptionalText(2000)


class CheckOutSchema(CheckOutPartSchema):
    households = fields.Integer(allow_none=True, strict=True, validate=validate.Range(0, 10_000))
    note = OptionalText(2000)


class ExplainSchema(Schema):
    note = Note(2000, required=True)


class VillageChangeSchema(Schema):
    village_code = fields.String(required=True, validate=VILLAGE_CODE)


class ReviewSchema(Schema):
    decision = fields.String(required=True,
                             validate=validate.OneOf(["approve", "reject", "reopen"]))
    comment = OptionalText(2000)


class BulkReviewSchema(ReviewSchema):
    ids = fields.List(Id(strict=True), required=True,
                      validate=validate.Length(min=1, max=500))


class VisitQuerySchema(Schema):
    user_id = Id()
    status = fields.String(validate=validate.OneOf(VISIT_STATUSES))
    from_ = Day(data_key="from")
    to = Day()


class ShownVisit:
    """A visit as one reader is shown it (what ``VisitSchema`` dumps): all it holds, but its raw
    coordinates only for a reader who may see them. A secretary sees colleagues' distances and
    flags, not where they stood (``policy.can_see_coordinates``; API.md "Who may do what")."""

    def __init__(self, visit, coordinates: bool):
        self.visit, self.coordinates = visit, coordinates

    def __getattr__(self, name):
        return getattr(self.visit, name)

    @property
    def user_name(self) -> str:
        return self.visit.user.name

    @property
    def village_code(self) -> str:
        return self.visit.village.code

    @property
    def village_name(self) -> str:
        return self.visit.village.name

    @property
    def check_in(self) -> VisitEnd:
        return VisitEnd(self, "check_in")

    @property
    def check_out(self) -> VisitEnd | None:
        return VisitEnd(self, "check_out") if self.visit.check_out_at is not None else None


class VisitEnd:
    """One end of a shown visit, its check-in or its check-out, as ``FixSchema`` dumps it: the
    visit's ``check_in_*`` or ``check_out_*`` columns. A check-in is never typed in, so it has
    no ``manual`` and its answer no such key."""

    def __init__(self, shown: ShownVisit, end: str):
        self._shown, self._end = shown, end

    def __getattr__(self, name):
        return getattr(self._shown.visit, f"{self._end}_{name}")

    @property
    def location(self) -> dict | None:
        if self.lat is None or not self._shown.coordinates:
            return None
        return {"lat": self.lat, "lon": self.lon, "accuracy_m": self.accuracy_m}


class FixSchema(ObjectSchema):
    at = LocalDateTime()
    at_original = LocalDateTime(allow_none=True)
    location = fields.Nested(LocationSchema, allow_none=True)
    distance_m = fields.Float(allow_none=True)
    manual = fields.Boolean()


class VisitSchema(ObjectSchema):
    """A visit as API.md returns it; dumps a ``ShownVisit``."""

    id = fields.Integer()
    client_id = fields.String()
    user_id = fields.Integer()
    user_name = fields.String()
    village_code = fields.String()
    village_name = fields.String()
    activity = fields.String(allow_none=True)
    check_in = fields.Nested(FixSchema)
    check_out = fields.Nested(FixSchema, allow_none=True)
    status = fields.String()
    flags = fields.List(fields.String())
    distance_m = fields.Float(allow_none=True)
    counts = fields.Boolean()
    households = fields.Integer(allow_none=True)
    note = fields.String(allow_none=True)
    explanation = fields.String(allow_none=True)
    review_comment = fields.String(allow_none=True)
    received_at = LocalDateTime()


class VisitEventSchema(Schema):
    """One entry of a visit's audit trail; dumps a ``VisitEvent`` (the server's own entries
    have no actor: ``actor_id`` and ``actor_name`` are null)."""

    id = fields.Integer()
    at = LocalDateTime()
    actor_id = fields.Integer(allow_none=True)
    actor_name = fields.String(attribute="actor.name", allow_none=True, dump_default=None)
    action = fields.String()
    from_status = fields.String(allow_none=True)
    to_status = fields.String(allow_none=True)
    changes = fields.Dict()
    comment = fields.String(allow_none=True)


class BulkReviewResultSchema(Schema):
    visits = fields.List(fields.Nested(VisitSchema))
