"""The rule book: flag thresholds and effects, limits and activity types, per county.

Loaded once at start from the shipped defaults and ``ZAICUN_RULES_FILE``; an invalid file
is refused with a message naming the part and the field.
"""
from __future__ import annotations

import copy
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from .crediting import Thresholds
from .rules import Rule, RuleError, parse_rules, parse_thresholds

DEFAULTS_PATH = Path(__file__).with_name("defaults.toml")
FLAG_CODES = ("outside_geofence", "low_accuracy", "no_location", "too_long", "manual_checkout",
              "late_sync", "impossible_travel", "clock_skew")
EFFECTS = ("review", "info", "off")
THRESHOLD_FLAGS = ("low_accuracy", "too_long", "late_sync", "impossible_travel", "clock_skew")


RulebookError = RuleError  # the rule file is invalid; the message names the part and field


@dataclass(frozen=True)
class FlagSetting:
    effect: str
    threshold: float | None = None


@dataclass(frozen=True)
class ActivityType:
    id: str
    zh: str
    en: str


@dataclass(frozen=True)
class Rulebook:
    """What applies in one county (or by default)."""

    flags: dict[str, FlagSetting]
    activities: tuple[ActivityType, ...]
    future_tolerance_s: float
    rules: tuple[Rule, ...] = ()
    thresholds: Thresholds = Thresholds()
    raw: dict = field(repr=False, default_factory=dict)

    def effect(self, flag: str) -> str:
        return self.flags[flag].effect

    def threshold(self, flag: str) -> float:
        return self.flags[flag].threshold  # type: ignore[return-value]

    def activity_ids(self) -> set[str]:
        return {a.id for a in self.activities}

    def rules_for(self, role: str) -> list[Rule]:
        """The rules that apply to a person in this role."""
        return [rule for rule in self.rules if rule.applies_to(role)]


BY_ID = ("rules", "activities")  # lists of tables merged by their ``id``


def _merge_by_id(base: list, override: list) -> list:
    """A table with a known id replaces fields of that entry; a new id is appended."""
    merged = copy.deepcopy(base)
    positions = {item.get("id"): i for i, item in enumerate(merged) if isinstance(item, dict)}
    for item in override:
        key = item.get("id") if isinstance(item, dict) else None
        if key in positions:
            merged[positions[key]] = _merge(merged[positions[key]], item)
        else:
            merged.append(copy.deepcopy(item))
    return merged


def _merge(base: dict, override: dict) -> dict:
    """Deep-merge ``override`` into a copy of ``base``; rule and activity lists merge by id."""
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        elif key in BY_ID and isinstance(value, list) and isinstance(merged.get(key), list):
            merged[key] = _merge_by_id(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _parse_flag(code: str, spec) -> FlagSetting:
    where = f"flags.{code}"
    if not isinstance(spec, dict):
        raise RulebookError(f"{where}: must be a table")
    effect = spec.get("effect")
    if effect not in EFFECTS:
        raise RulebookError(f"{where}.effect: must be one of {', '.join(EFFECTS)}")
    threshold = spec.get("threshold")
    if code in THRESHOLD_FLAGS:
        if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or threshold < 0:
            raise RulebookError(f"{where}.threshold: must be a number ≥ 0")
    return FlagSetting(effect=effect, threshold=threshold)


def _parse_activities(items) -> tuple[ActivityType, ...]:
    if not isinstance(items, list) or not items:
        raise RulebookError("activities: must be a non-empty list")
    parsed = []
    for index, item in enumerate(items):
        for key in ("id", "zh", "en"):
            if not isinstance(item, dict) or not isinstance(item.get(key), str) or not item[key]:
                raise RulebookError(f"activities[{index}].{key}: must be a non-empty string")
        parsed.append(ActivityType(item["id"], item["zh"], item["en"]))
    return tuple(parsed)


def build_rulebook(data: dict) -> Rulebook:
    """Validate a merged rule-book mapping and return it as a Rulebook."""
    flags = data.get("flags", {})
    unknown = set(flags) - set(FLAG_CODES)
    if unknown:
        raise RulebookError(f"flags.{sorted(unknown)[0]}: unknown flag")
    limits = data.get("limits", {})
    tolerance = limits.get("future_tolerance_s")
    if not isinstance(tolerance, (int, float)) or tolerance < 0:
        raise RulebookError("limits.future_tolerance_s: must be a number ≥ 0")
    activities = _parse_activities(data.get("activities"))
    return Rulebook(
        flags={code: _parse_flag(code, flags.get(code)) for code in FLAG_CODES},
        activities=activities,
        future_tolerance_s=float(tolerance),
        rules=parse_rules(data.get("rules", []), {a.id for a in activities}),
        thresholds=parse_thresholds(data.get("crediting")),
        raw=data,
    )


class RuleSet:
    """The default rule book plus one per county that overrides it."""

    def __init__(self, data: dict):
        counties = data.get("county", {})
        base = {k: v for k, v in data.items() if k != "county"}
        self.default = build_rulebook(base)
        self.by_county: dict[str, Rulebook] = {}
        for code, override in counties.items():
            try:
                self.by_county[str(code)] = build_rulebook(_merge(base, override))
            except RuleError as exc:
                raise RulebookError(f"county.{code}.{exc}") from None

    def for_county(self, code: str | None) -> Rulebook:
        """Return the rule book in force for the county (the default when it has none)."""
        return self.by_county.get(code or "", self.default)


def load_ruleset(path: str | None = None) -> RuleSet:
    """Load the shipped defaults, merged with the file at ``path`` when given."""
    data = tomllib.loads(DEFAULTS_PATH.read_text(encoding="utf-8"))
    if path:
        try:
            override = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise RulebookError(f"{path}: {exc}") from None
        data = _merge(data, override)
    return RuleSet(data)
