"""The rule book in force for a person: their county's, or the default one."""
from __future__ import annotations

from flask import current_app

from .auth.models import User
from .compliance.rulebook import Rulebook


def ruleset():
    """The deployment's rules: the default book and any county's own."""
    return current_app.extensions["zaicun_rules"]


def rulebook_for(user: User) -> Rulebook:
    """The rule book of the person's county."""
    rules = ruleset()
    if not rules.by_county:
        return rules.default  # one book for every county: no need to look for the person's
    county = user.unit.county() if user.unit else None
    return rules.for_county(county.code if county else None)
