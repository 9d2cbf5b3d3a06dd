"""Closing a year (封存, RULES.md §9): the snapshot of a county's results, the refusal of
every write that would change them, reopening, and the check that the snapshot still holds."""
