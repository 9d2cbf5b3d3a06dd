"""Errors of the compliance core, named after what went wrong."""


class ComplianceError(ValueError):
    """A question the rules cannot answer as asked."""


class AsOfOutOfRange(ComplianceError):
    """``as_of`` is after today or outside the requested year."""

    def __init__(self, as_of, reason: str):
        super().__init__(f"as_of {as_of}: {reason}")
        self.as_of = as_of
        self.reason = reason


class CalendarFileError(ComplianceError):
    """A calendar file line that cannot be read; carries the line number and column."""

    def __init__(self, line: int, column: str, problem: str):
        super().__init__(f"line {line}, column {column}: {problem}")
        self.line, self.column, self.problem = line, column, problem
