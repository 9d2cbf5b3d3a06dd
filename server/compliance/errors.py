"""Errors of the compliance core, named after what went wrong."""


class ComplianceError(ValueError):
    """A question the rules cannot answer as asked."""


class CalendarFileError(ComplianceError):
    """A calendar file line that cannot be read; carries the line number and column."""

    def __init__(self, line: int, column: str, problem: str):
        super().__init__(f"line {line}, column {column}: {problem}")
        self.line, self.column, self.problem = line, column, problem
