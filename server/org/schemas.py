"""Request and response shapes for units, villages and users.

The response schemas dump the model objects themselves (``Unit``, ``Village``, ``User``): the
views return objects and ``@blp.response`` serialises them, so each shape is said once, here.
"""
from marshmallow import Schema, ValidationError, fields, pre_dump, validate, validates_schema

from ..auth.models import ROLES
from ..clock import today
from ..org.models import UNIT_LEVELS
from ..schemas import (
    CRS,
    UNIT_CODE,
    VILLAGE_CODE,
    Coordinate,
    Day,
    ErrorSchema,
    Flag,
    LocalDateTime,
    Text,
    Username,
)


class UnitCreateSchema(Schema):
    code = fields.String(required=True, validate=UNIT_CODE)
    name = Text(100, required=True)
    level = fields.String(required=True, validate=validate.OneOf(UNIT_LEVELS))
    parent_code = fields.String(validate=UNIT_CODE, allow_none=True)


class UnitSchema(Schema):
    code = fields.String()
    name = fields.String()
    level = fields.String()
    parent_code = fields.String(allow_none=True)


class UnitQuerySchema(Schema):
    level = fields.String(validate=validate.OneOf(UNIT_LEVELS))


class VillageCreateSchema(Schema):
    code = fields.String(required=True, validate=VILLAGE_CODE)
    name = Text(100, required=True)
    township_code = fields.String(required=True, validate=UNIT_CODE)
    lat = Coordinate.lat(required=True)
    lon = Coordinate.lon(required=True)
    radius_m = fields.Integer(load_default=1000, strict=True, validate=validate.Range(1, 100_000))
    crs = CRS


class VillagePatchSchema(Schema):
    name = Text(100)
    lat = Coordinate.lat()
    lon = Coordinate.lon()
    radius_m = fields.Integer(strict=True, validate=validate.Range(1, 100_000))
    crs = CRS

    @validates_schema
    def point_comes_whole(self, data, **kwargs):
        if ("lat" in data) != ("lon" in data):
            raise ValidationError("lat and lon change together", "lat" if "lon" in data else "lon")


class VillageSchema(Schema):
    code = fields.String()
    name = fields.String()
    township_code = fields.String()
    lat = fields.Float()
    lon = fields.Float()
    radius_m = fields.Integer()


class VillageQuerySchema(Schema):
    township_code = fields.String(validate=UNIT_CODE)


class UserCreateSchema(Schema):
    username = Username(required=True)
    password = fields.String(required=True, validate=validate.Length(max=200))
    name = Text(100, required=True)
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    unit_code = fields.String(validate=UNIT_CODE, allow_none=True)
    active_from = Day(allow_none=True)
    active_until = Day(allow_none=True)

    @validates_schema
    def active_part_ordered(self, data, **kwargs):
        start, end = data.get("active_from"), data.get("active_until")
        if start and end and end < start:
            raise ValidationError("must not be before active_from", "active_until")


class UserPatchSchema(Schema):
    name = Text(100)
    role = fields.String(validate=validate.OneOf(ROLES))
    unit_code = fields.String(validate=UNIT_CODE, allow_none=True)
    active_from = Day(allow_none=True)
    active_until = Day(allow_none=True)
    active = Flag()


class UserQuerySchema(Schema):
    unit_code = fields.String(validate=UNIT_CODE)
    role = fields.String(validate=validate.OneOf(ROLES))


class UserSchema(Schema):
    id = fields.Integer()
    username = fields.String()
    name = fields.String()
    role = fields.String()
    unit_code = fields.String(allow_none=True)
    unit_name = fields.String(allow_none=True)
    active_from = fields.Date(allow_none=True)
    active_until = fields.Date(allow_none=True)
    active = fields.Boolean()
    must_change_password = fields.Boolean()


class UserDetailSchema(UserSchema):
    """One user fetched (GET /users/<id>): also what the linked-villages editor starts from
    (docs/decisions.md, "Results"); lists leave it out."""
    linked_village_codes = fields.List(fields.String())


class LinkedVillagesSchema(Schema):
    village_codes = fields.List(fields.String(validate=VILLAGE_CODE), required=True,
                                validate=validate.Length(max=500))
    starts_on = Day(data_key="from", metadata={
        "description": "The date the new list takes effect (default today; for someone "
                       "linked to no village yet: always). Links not listed end the day before."})


class LinkedVillagesQuerySchema(Schema):
    on = Day(metadata={"description": "The date asked about (default today)"})


class LinkSchema(Schema):
    village_code = fields.String()
    village_name = fields.String()
    starts_on = fields.Date(data_key="from", attribute="from", allow_none=True)
    ends_on = fields.Date(data_key="until", attribute="until", allow_none=True)


class LinkedVillagesOnSchema(Schema):
    """The villages linked to a person on a date, and every link they have had."""
    user_id = fields.Integer()
    on = fields.Date()
    village_codes = fields.List(fields.String())
    links = fields.List(fields.Nested(LinkSchema))


class PostSchema(Schema):
    """A post: a role in a unit from ``from`` through ``until`` (null: no limit)."""
    id = fields.Integer()
    unit_code = fields.String(allow_none=True)
    unit_name = fields.String(allow_none=True)
    role = fields.String()
    starts_on = fields.Date(data_key="from", allow_none=True)
    ends_on = fields.Date(data_key="until", allow_none=True)


class PostCreateSchema(Schema):
    unit_code = fields.String(required=True, validate=UNIT_CODE, allow_none=True, metadata={
        "description": "The unit of the new post (null only for an admin over everything)"})
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    starts_on = Day(data_key="from", required=True, metadata={
        "description": "The first day of the new post; the current one ends the day before"})


class PostImportQuerySchema(Schema):
    dry_run = fields.Boolean(load_default=False, metadata={"description": "Check and preview only; write nothing"})


class PostSideSchema(Schema):
    unit_code = fields.String(allow_none=True)
    unit_name = fields.String(allow_none=True)
    role = fields.String(allow_none=True)


class PostMoveSchema(Schema):
    """One row of a 换届 import: who, from which post to which, from when."""
    row = fields.Integer()
    user_id = fields.Integer()
    username = fields.String()
    name = fields.String()
    before = fields.Nested(PostSideSchema, data_key="from_post", attribute="before")
    after = fields.Nested(PostSideSchema, data_key="to_post", attribute="after")
    starts_on = fields.Date(data_key="from", attribute="from")


class PostImportResultSchema(Schema):
    imported = fields.Integer()
    moves = fields.List(fields.Nested(PostMoveSchema))


class PostRowSchema(Schema):
    """A row of a 换届 import (``username,unit_code,role,from``)."""
    username = Username(required=True)
    unit_code = fields.String(required=True, validate=UNIT_CODE)
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    starts_on = Day(data_key="from", required=True)


class PostPatchSchema(Schema):
    starts_on = Day(data_key="from", allow_none=True)
    ends_on = Day(data_key="until", allow_none=True)

    @validates_schema
    def ordered(self, data, **kwargs):
        start, end = data.get("starts_on"), data.get("ends_on")
        if start and end and end < start:
            raise ValidationError("before from", "until")


class OneTimePasswordSchema(Schema):
    user = fields.Nested(UserSchema)
    one_time_password = fields.String()


class ImportResultSchema(Schema):
    imported = fields.Integer()
    one_time_passwords = fields.Dict(keys=fields.String(), values=fields.String())


class ImportJobSchema(Schema):
    """A CSV import running in the background (a file of more rows than a request takes)."""
    id = fields.String()
    kind = fields.String(metadata={"enum": ["villages", "users"]})
    status = fields.String(metadata={"enum": ["queued", "running", "done", "failed"]})
    phase = fields.String(allow_none=True, metadata={
        "description": "queued, checking, hashing (users' one-time passwords) or writing; "
                       "done_rows counts the rows of this phase done so far"})
    total_rows = fields.Integer()
    done_rows = fields.Integer()
    created_at = LocalDateTime()
    started_at = LocalDateTime(allow_none=True)
    finished_at = LocalDateTime(allow_none=True)
    status_url = fields.String(metadata={"description": "Where to GET this job's status"})
    result = fields.Nested(ImportResultSchema, allow_none=True, metadata={
        "description": "When done: as the 201 of a small file; the one-time passwords only "
                       "in the owner's first answer after it is done"})
    error = fields.Nested(ErrorSchema, allow_none=True, metadata={
        "description": "When failed: as the error of a small file (csv_invalid: errors.rows)"})
    passwords_given_at = LocalDateTime(allow_none=True)


class MeSchema(Schema):
    """A person as they see themselves (``/me``), dumped from the ``User``."""
    user = fields.Nested(UserSchema)
    unit = fields.Nested(UnitSchema, allow_none=True)
    county_code = fields.String(allow_none=True)
    linked_villages = fields.List(fields.Nested(VillageSchema))
    post = fields.Nested(PostSchema, allow_none=True, metadata={
        "description": "The post held today (null: none — a cadre or secretary then has no "
                       "village to check in to)"})

    @pre_dump
    def of_person(self, person, **kwargs):
        county = person.unit.county() if person.unit else None
        return {"user": person, "unit": person.unit, "county_code": county.code if county else None,
                "linked_villages": person.linked_villages, "post": person.post_on(today())}

