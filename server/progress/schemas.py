"""Request and response shapes for compliance, absences, balances and calendars."""
from marshmallow import Schema, fields, validate

from ..schemas import UNIT_CODE, Day, Flag, Id, LocalDateTime, OptionalText
from .models import ABSENCE_KINDS

YEAR = validate.Range(2000, 2100)


class ComplianceQuerySchema(Schema):
    year = fields.Integer(validate=YEAR)
    as_of = Day()


class UnitQuerySchema(ComplianceQuerySchema):
    unit_code = fields.String(validate=UNIT_CODE)


class RollupQuerySchema(UnitQuerySchema):
    include = fields.String(validate=validate.OneOf(["coverage"]), metadata={
        "description": "coverage: add each row's linked-village coverage (visited/linked)"})


class ExportQuerySchema(UnitQuerySchema):
    format = fields.String(load_default="xlsx", validate=validate.OneOf(["xlsx", "csv"]))


class DaysQuerySchema(Schema):
    year = fields.Integer(validate=YEAR)


class ResultAbsenceSchema(Schema):
    id = fields.Integer()
    kind = fields.String(metadata={"description": "leave, training or official_duty"})
    start = fields.Date()
    end = fields.Date()
    counts_as_village_work = fields.Boolean()
    working_days = fields.Integer(metadata={
        "description": "Its official working days within the active part."})
    working_days_to_date = fields.Integer(metadata={
        "description": "Its official working days within the active part up to `as_of`."})


class RuleResultSchema(Schema):
    rule_id = fields.String()
    title = fields.String()
    measure = fields.String()
    period_start = fields.Date()
    period_end = fields.Date()
    active_start = fields.Date()
    active_end = fields.Date()
    actual = fields.Float(allow_none=True)
    target = fields.Float(allow_none=True)
    expected_to_date = fields.Float(allow_none=True)
    status = fields.String()
    remaining = fields.Float(allow_none=True)
    remaining_working_days = fields.Integer()
    pace_per_working_day = fields.Float(allow_none=True)
    calendar = fields.String()
    reachable = fields.Boolean(allow_none=True, metadata={"description": (
        "Village days: false when `remaining` exceeds the calendar days left in the active "
        "part after `as_of` (a village day a date); village hours: 24 × those days; null "
        "for other measures (no ceiling a date).")})
    official_working_days = fields.Integer(metadata={
        "description": "Official working days of the active part."})
    working_days = fields.Integer(metadata={
        "description": "The person's working days in the active part: official ones less "
                       "those of approved absences (the target's base)."})
    working_days_to_date = fields.Integer(metadata={
        "description": "The person's working days from the active part's start to `as_of`."})
    absence_working_days = fields.Integer(metadata={
        "description": "Working days taken out by approved absences (official − the person's)."})
    absences = fields.List(fields.Nested(ResultAbsenceSchema), metadata={
        "description": "The approved absences that changed this result, oldest first: those "
                       "away from villages (their working days are taken out), and for village "
                       "days those counted as village work (they credit a village day each)."})
    absence_credit = fields.Float(allow_none=True, metadata={
        "description": "Village days in `actual` credited by absences counted as village work "
                       "(null when none)."})
    opening_balance = fields.Float(allow_none=True, metadata={
        "description": "The opening balance included in `actual` (null when none)."})


class PersonSummarySchema(Schema):
    id = fields.Integer()
    name = fields.String()
    username = fields.String()
    role = fields.String()
    unit_code = fields.String(allow_none=True)
    unit_name = fields.String(allow_none=True)


class ClosedSchema(Schema):
    """A closed year's mark on its results (RULES.md §9): served from this snapshot."""
    closed_at = LocalDateTime()
    snapshot_sha256 = fields.String(metadata={
        "description": "SHA-256 of the snapshot's canonical JSON (GET /closings/<id>/snapshot)"})


class ClosedCountySchema(ClosedSchema):
    unit_code = fields.String(metadata={"description": "The county that closed the year"})


class PersonComplianceSchema(Schema):
    user = fields.Nested(PersonSummarySchema)
    year = fields.Integer()
    as_of = fields.Date()
    unit_code = fields.String(allow_none=True, metadata={
        "description": "Where the results are shown: the unit of the post held on `as_of`, "
                       "or of the last post that year when it had ended (RULES.md §8)."})
    post_ended = fields.Boolean(metadata={
        "description": "No post on `as_of`, but one earlier that year: the status is then "
                       "`met` or `missed`."})
    rules = fields.List(fields.Nested(RuleResultSchema))
    closed = fields.Nested(ClosedSchema, metadata={
        "description": "A closed year: the results are its snapshot's (RULES.md §9)"})


class CoverageSchema(Schema):
    visited = fields.Integer(metadata={"description": "linked villages with a counting visit"})
    linked = fields.Integer(metadata={"description": "villages linked to the person"})


class RollupRowSchema(Schema):
    user = fields.Nested(PersonSummarySchema)
    unit_code = fields.String(allow_none=True, metadata={
        "description": "The unit the person is shown under as of `as_of` (RULES.md §8)."})
    post_ended = fields.Boolean(metadata={
        "description": "Shown under their last post of the year, which had ended."})
    rules = fields.List(fields.Nested(RuleResultSchema))
    coverage = fields.Nested(CoverageSchema, metadata={"description": "with include=coverage"})


class RollupSchema(Schema):
    unit_code = fields.String(allow_none=True)
    unit_name = fields.String(allow_none=True)
    year = fields.Integer()
    as_of = fields.Date()
    calendar = fields.String()
    rows = fields.List(fields.Nested(RollupRowSchema))
    closed = fields.Nested(ClosedSchema, metadata={
        "description": "The unit's county has closed the year: rows are its snapshot's"})
    closings = fields.List(fields.Nested(ClosedCountySchema), metadata={
        "description": "A roll-up above a county: the closings some rows are served from"})


class DayVisitSchema(Schema):
    id = fields.Integer()
    village_code = fields.String()
    village_name = fields.String()
    status = fields.String()
    counts = fields.Boolean()


class DayAbsenceSchema(Schema):
    id = fields.Integer()
    kind = fields.String()
    counts_as_village_work = fields.Boolean()


class DaySchema(Schema):
    date = fields.Date()
    working_day = fields.Boolean()
    seconds = fields.Integer()
    credit = fields.Float()
    visits = fields.List(fields.Nested(DayVisitSchema))
    absences = fields.List(fields.Nested(DayAbsenceSchema))


class DaysSchema(Schema):
    user = fields.Nested(PersonSummarySchema)
    year = fields.Integer()
    days = fields.List(fields.Nested(DaySchema))


class ActivityTypeSchema(Schema):
    id = fields.String()
    zh = fields.String()
    en = fields.String()


class RuleSchema(Schema):
    id = fields.String()
    title = fields.String()
    title_zh = fields.String()
    title_en = fields.String()
    roles = fields.List(fields.String())
    metric = fields.String()
    measure = fields.String()
    period = fields.String()
    target_kind = fields.String()
    target_value = fields.String()
    activities = fields.List(fields.String(), allow_none=True)
    linked_villages_only = fields.Boolean()


class RulesSchema(Schema):
    county_code = fields.String(allow_none=True)
    rules = fields.List(fields.Nested(RuleSchema))
    activities = fields.List(fields.Nested(ActivityTypeSchema))
    thresholds = fields.Dict()


class AbsenceCreateSchema(Schema):
    user_id = Id(required=True, strict=True)
    start = Day(required=True)
    end = Day(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(ABSENCE_KINDS))
    counts_as_village_work = Flag(load_default=False)
    note = OptionalText(2000)


class AbsenceQuerySchema(Schema):
    user_id = Id()
    year = fields.Integer(validate=YEAR)


class AbsenceSchema(Schema):
    id = fields.Integer()
    user_id = fields.Integer()
    user_name = fields.String()
    start = fields.Date()
    end = fields.Date()
    kind = fields.String()
    counts_as_village_work = fields.Boolean()
    note = fields.String(allow_none=True)
    status = fields.String()
    created_by_id = fields.Integer()


class OpeningBalanceSchema(Schema):
    village_days = fields.Decimal(required=True, as_string=False,
                                  validate=validate.Range(0, 366),
                                  # apispec would write these bounds as strings ("366")
                                  metadata={"minimum": 0, "maximum": 366, "multipleOf": 0.5})
    reports = fields.Integer(required=True, strict=True, validate=validate.Range(0, 1000))
    note = OptionalText(2000)


class OpeningBalanceOutSchema(Schema):
    user_id = fields.Integer()
    year = fields.Integer()
    village_days = fields.Float()
    reports = fields.Integer()
    note = fields.String(allow_none=True)


class CalendarQuerySchema(Schema):
    unit_code = fields.String(validate=UNIT_CODE, metadata={
        "description": "The county whose calendar this is (default: the admin's own county; "
                       "an admin with no unit: the deployment-wide calendar)"})


class CalendarLoadedSchema(Schema):
    year = fields.Integer()
    dates = fields.Integer()
    calendar = fields.String()
    county_code = fields.String(allow_none=True)
