"""Compliance, the per-day breakdown, roll-ups, exports, absences, balances and calendars."""
from flask import jsonify
from flask_smorest import Blueprint

from .. import policy
from ..auth.request_auth import current_user
from ..closing import services as closings
from ..messages import prefers_english
from ..org.services import get_user_for_org
from ..rulebooks import rulebook_for
from ..uploads import CSV_UPLOAD, uploaded_text
from . import export, services
from .coverage import linked_village_coverage
from .facts import county_code_of
from .schemas import (
    AbsenceCreateSchema,
    AbsenceQuerySchema,
    AbsenceSchema,
    CalendarLoadedSchema,
    CalendarQuerySchema,
    ClosedCountySchema,
    ComplianceQuerySchema,
    DaysQuerySchema,
    DaysSchema,
    ExportQuerySchema,
    OpeningBalanceOutSchema,
    OpeningBalanceSchema,
    PersonComplianceSchema,
    RollupQuerySchema,
    RollupSchema,
    RulesSchema,
)

blp = Blueprint("progress", __name__, url_prefix="/api/v1",
                description="Compliance, absences, opening balances and calendars")


@blp.route("/rules", methods=["GET"])
@blp.response(200, RulesSchema)
def get_rules():
    """The rules and activity types in force for the caller's county."""
    actor = current_user()
    book = rulebook_for(actor)
    county = actor.unit.county() if actor.unit else None
    english = prefers_english()
    return {
        "county_code": county.code if county else None,
        "rules": [{"id": r.id, "title": r.title(english), "title_zh": r.title_zh,
                   "title_en": r.title_en, "roles": sorted(r.roles), "metric": r.metric,
                   "measure": r.measure, "period": r.period, "target_kind": r.target.kind,
                   "target_value": str(r.target.value),
                   "activities": sorted(r.activities) if r.activities is not None else None,
                   "linked_villages_only": r.linked_villages_only} for r in book.rules],
        "activities": [{"id": a.id, "zh": a.zh, "en": a.en} for a in book.activities],
        "thresholds": {"full_day_seconds": book.thresholds.full_day_s,
                       "half_day_seconds": book.thresholds.half_day_s},
    }


def _person_compliance(person, as_of):
    """A person's results as of a date; of a closed year, its snapshot's (RULES.md §9: asked
    as of a later day of a year closed before its end, as of the closing day)."""
    post, ended = services.shown_as_of(person, as_of)
    frozen = closings.frozen_for(post.unit if post else None, as_of.year, as_of)
    if frozen is not None and as_of != frozen.as_of:
        as_of = frozen.as_of
        post, ended = services.shown_as_of(person, as_of)
    unit_code = post.unit_code if post else None
    english = prefers_english()
    closing, row = closings.frozen_row([frozen] if frozen else [], person.id, unit_code)
    answer = PersonComplianceSchema().dump({
        "user": services.person_summary(person, post), "year": as_of.year,
        "as_of": closing.as_of if closing else as_of, "unit_code": unit_code,
        "post_ended": ended, "closed": closing.stamp if closing else None,
        "rules": [] if closing else [services.result_dict(r, english)
                                     for r in services.results_for(person, as_of)]})
    if closing is None:
        del answer["closed"]
    else:
        answer["rules"] = closings.frozen_rules(closing, row, english)
    return jsonify(answer)


@blp.route("/compliance/me", methods=["GET"])
@blp.arguments(ComplianceQuerySchema, location="query")
@blp.response(200, PersonComplianceSchema)
def get_my_compliance(args):
    """My results for every rule that applies to me."""
    return _person_compliance(current_user(),
                              services.resolve_as_of(args.get("year"), args.get("as_of")))


@blp.route("/compliance/users/<int:user_id>", methods=["GET"])
@blp.arguments(ComplianceQuerySchema, location="query")
@blp.response(200, PersonComplianceSchema)
def get_user_compliance(args, user_id):
    """A person's results (own, own township for secretaries, scope for supervisors)."""
    as_of = services.resolve_as_of(args.get("year"), args.get("as_of"))
    return _person_compliance(services.readable_results(current_user(), user_id, as_of), as_of)


@blp.route("/compliance/users/<int:user_id>/days", methods=["GET"])
@blp.arguments(DaysQuerySchema, location="query")
@blp.response(200, DaysSchema)
def get_user_days(args, user_id):
    """Per local date: in-village seconds, credit, and the visits and absences behind it."""
    person = services.readable_person(current_user(), user_id)
    year = args.get("year") or services.today().year
    return {"user": services.person_summary(person), "year": year,
            "days": services.day_breakdown(person, year)}


def rollup(args) -> dict:
    """The roll-up as the API answers it (dumped); rows of people in a county that closed the
    year are its snapshot's (RULES.md §9), and a unit within that county says so."""
    actor, code = current_user(), args.get("unit_code")
    as_of = services.resolve_as_of(args.get("year"), args.get("as_of"))
    found = closings.frozen_of(as_of.year, as_of)  # the closings that may serve its rows
    frozen = closings.covering(found, services.rollup_unit(actor, code))
    if frozen is not None:
        as_of = frozen.as_of  # a year closed before its end: as of the closing day
    unit, rows = services.unit_rows(actor, code, as_of)
    calendar = services.working_calendar(county_code_of(unit)).kind(as_of.year)
    english = prefers_english()
    answer = RollupSchema().dump({
        "unit_code": unit.code if unit else None, "unit_name": unit.name if unit else None,
        "year": as_of.year, "as_of": as_of, "calendar": calendar,
        "closed": frozen.stamp if frozen else None,
        "rows": [services.rollup_row(person, results, english) for person, results in rows]})
    used = closings.freeze_rows(answer["rows"], found, english)
    if frozen is None:
        del answer["closed"]
        if used:  # above a county: each closed county's hash
            answer["closings"] = ClosedCountySchema(many=True).dump(
                [{**f.stamp, "unit_code": f.code} for f in used])
    if args.get("include") == "coverage":
        coverage = linked_village_coverage([person for person, _ in rows], as_of)
        for row in answer["rows"]:
            row["coverage"] = coverage[row["user"]["id"]]
    return answer


@blp.route("/compliance", methods=["GET"])
@blp.arguments(RollupQuerySchema, location="query")
@blp.response(200, RollupSchema)
def get_rollup(args):
    """One row per person in the unit or below, sorted by unit code and the name's pinyin.

    ``include=coverage`` adds each row's linked-village coverage: of the villages linked to
    the person, how many they visited (a counting visit) in the year up to ``as_of``.
    """
    return jsonify(rollup(args))


@blp.route("/compliance/export", methods=["GET"])
@blp.arguments(ExportQuerySchema, location="query")
@blp.response(200, description="An xlsx workbook or a UTF-8 csv file with BOM")
def get_export(args):
    """Download the roll-up as xlsx (a sheet per rule) or csv (long form)."""
    return export.download(rollup(args), args["format"], prefers_english())


@blp.route("/absences", methods=["POST"])
@blp.arguments(AbsenceCreateSchema)
@blp.response(201, AbsenceSchema)
def post_absence(args):
    """Enter leave, training or official duty (approved when entered)."""
    return services.absence_dict(services.create_absence(current_user(), args))


@blp.route("/absences", methods=["GET"])
@blp.arguments(AbsenceQuerySchema, location="query")
@blp.response(200, AbsenceSchema(many=True))
def list_absences(args):
    """Absences the caller may read."""
    return [services.absence_dict(a) for a in services.list_absences(
        current_user(), args.get("user_id"), args.get("year"))]


@blp.route("/absences/<int:absence_id>/withdraw", methods=["POST"])
@blp.response(200, AbsenceSchema)
def post_withdraw_absence(absence_id):
    """Withdraw an absence; the person's working days are counted again."""
    actor = current_user()
    absence = services.withdraw_absence(actor, services.load_absence(actor, absence_id))
    return services.absence_dict(absence)


@blp.route("/users/<int:user_id>/opening-balance/<int:year>", methods=["PUT"])
@blp.arguments(OpeningBalanceSchema)
@blp.response(200, OpeningBalanceOutSchema)
def put_opening_balance(args, user_id, year):
    """Village days and reports done in the year before the system existed (admin)."""
    actor = current_user()
    policy.ensure(policy.is_org_reader(actor))
    person = get_user_for_org(actor, user_id)
    balance = services.set_opening_balance(actor, person, year, args)
    return {"user_id": person.id, "year": year, "village_days": balance.village_days,
            "reports": balance.reports, "note": balance.note}


@blp.route("/calendars/<int:year>", methods=["PUT"])
@blp.arguments(CalendarQuerySchema, location="query")
@blp.response(200, CalendarLoadedSchema)
@blp.doc(requestBody=CSV_UPLOAD)
def put_calendar(args, year):
    """Load a year's official holidays and make-up workdays (CSV ``date,kind``; admin).

    The calendar is a county's: the one ``unit_code`` names, or the admin's own county. An
    admin with no unit and no ``unit_code`` loads the deployment-wide calendar, which every
    county uses for a year it has not loaded itself."""
    actor = current_user()
    policy.ensure(policy.is_admin(actor))
    county = services.calendar_county(actor, args.get("unit_code"))
    count = services.load_calendar(year, uploaded_text(), county)
    return {"year": year, "dates": count, "calendar": "official",
            "county_code": county.code if county else None}
