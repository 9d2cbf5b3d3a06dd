"""The rule book in force for a person: their county's, or the default one."""
from __future__ import annotations

from flask import current_app

from .auth.models import User
from .compliance.rulebook import Rulebook
from .org.models import Unit


def ruleset():
    """The deployment's rules: the default book and any county's own."""
    return current_app.extensions["zaicun_rules"]


def rulebook_for(user: User) -> Rulebook:
    """The rule book of the person's county."""
    return rulebook_of(user.unit)


def rulebook_of(unit: Unit | None) -> Rulebook:
    """The rule book of the county a unit is in (the default one outside a county)."""
    rules = ruleset()
    if not rules.by_county:
        return rules.default  # one book for every county: no need to look for the unit's
    county = unit.county() if unit else None
    return rules.for_county(county.code if county else None)
