"""Rules as data (RULES.md §7): what is measured, over which period, against what target."""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from .crediting import Thresholds

METRIC_MEASURES = {
    "village_days": "days",
    "village_hours": "hours",
    "visits": "visits",
    "households_visited": "households",
    "thematic_reports": "reports",
    "linked_village_coverage": "share",
}
PERIODS = ("year", "quarter", "month")
ROLES = ("cadre", "secretary", "supervisor", "admin")


class RuleError(ValueError):
    """An invalid rule; the message names the rule and the field."""


@dataclass(frozen=True)
class Target:
    """``count``: a number pro-rated to the active part and rounded up;
    ``fraction``: that share of the person's working days (or, for coverage, the share)."""
    kind: str
    value: Fraction


@dataclass(frozen=True)
class Rule:
    id: str
    title_zh: str
    title_en: str
    roles: frozenset[str]
    metric: str
    period: str
    target: Target
    activities: frozenset[str] | None = None
    linked_villages_only: bool = False

    @property
    def measure(self) -> str:
        return METRIC_MEASURES[self.metric]

    @property
    def filtered(self) -> bool:
        """Whether the rule needs the visits themselves, not the kept day credits."""
        return self.activities is not None or self.linked_villages_only

    def applies_to(self, role: str) -> bool:
        return role in self.roles

    def title(self, english: bool) -> str:
        return self.title_en if english else self.title_zh


def _fraction(value, where: str) -> Fraction:
    try:
        number = Fraction(value) if isinstance(value, (int, str)) else Fraction(str(value))
    except (ValueError, ZeroDivisionError, TypeError):
        raise RuleError(f"{where}: not a number or fraction like \"1/3\"") from None
    if number < 0:
        raise RuleError(f"{where}: must not be negative")
    return number


def _text(spec: dict, key: str, where: str) -> str:
    value = spec.get(key)
    if not isinstance(value, str) or not value.strip():
        raise RuleError(f"{where}.{key}: must be a non-empty string")
    return value


def parse_target(spec, where: str) -> Target:
    if (not isinstance(spec, dict) or len(spec) != 1
            or next(iter(spec)) not in ("count", "fraction")):
        raise RuleError(f"{where}: must be {{count = N}} or {{fraction = \"a/b\"}}")
    kind, value = next(iter(spec.items()))
    return Target(kind, _fraction(value, f"{where}.{kind}"))


def parse_rule(spec, activity_ids: set[str], index: int) -> Rule:
    """Validate one rule table; RuleError names the rule id (or position) and field."""
    if not isinstance(spec, dict):
        raise RuleError(f"rules[{index}]: must be a table")
    rule_id = spec.get("id")
    where = f"rules.{rule_id}" if isinstance(rule_id, str) and rule_id else f"rules[{index}]"
    _text(spec, "id", where)
    roles = spec.get("roles")
    if not isinstance(roles, list) or not roles or any(r not in ROLES for r in roles):
        raise RuleError(f"{where}.roles: a list of {', '.join(ROLES)}")
    if spec.get("metric") not in METRIC_MEASURES:
        raise RuleError(f"{where}.metric: one of {', '.join(METRIC_MEASURES)}")
    if spec.get("period") not in PERIODS:
        raise RuleError(f"{where}.period: one of {', '.join(PERIODS)}")
    activities = spec.get("activities")
    if activities is not None:
        if not isinstance(activities, list) or any(a not in activity_ids for a in activities):
            raise RuleError(f"{where}.activities: a list of known activity ids")
        activities = frozenset(activities)
    linked = spec.get("linked_villages_only", False)
    if not isinstance(linked, bool):
        raise RuleError(f"{where}.linked_villages_only: true or false")
    return Rule(id=rule_id, title_zh=_text(spec, "title_zh", where),
                title_en=_text(spec, "title_en", where), roles=frozenset(roles),
                metric=spec["metric"], period=spec["period"],
                target=parse_target(spec.get("target"), f"{where}.target"),
                activities=activities, linked_villages_only=linked)


def parse_rules(items, activity_ids: set[str]) -> tuple[Rule, ...]:
    """Validate the rule list; rules with ``enabled = false`` are left out."""
    if not isinstance(items, list):
        raise RuleError("rules: must be a list of tables")
    rules = [parse_rule(spec, activity_ids, i) for i, spec in enumerate(items)
             if not (isinstance(spec, dict) and spec.get("enabled") is False)]
    ids = [r.id for r in rules]
    duplicate = next((i for i in ids if ids.count(i) > 1), None)
    if duplicate:
        raise RuleError(f"rules.{duplicate}: defined twice")
    return tuple(rules)


def parse_thresholds(spec) -> Thresholds:
    spec = spec or {}
    full = spec.get("full_day_seconds", 21_600)
    half = spec.get("half_day_seconds", 10_800)
    for key, value in (("full_day_seconds", full), ("half_day_seconds", half)):
        if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= 86_400:
            raise RuleError(f"crediting.{key}: whole seconds between 1 and 86400")
    if half > full:
        raise RuleError("crediting.half_day_seconds: must not exceed full_day_seconds")
    return Thresholds(full_day_s=full, half_day_s=half)
