"""CSV imports of villages and users: every row is checked first, then all or none is written.

Villages: ``code,name,township_code,lat,lon[,radius_m][,crs]``.
Users: ``username,name,role,unit_code[,active_from][,active_until][,village_codes]``
(``village_codes`` separated by spaces or semicolons). Imported users get one-time passwords.
"""
from __future__ import annotations

import csv
import io

from marshmallow import Schema, ValidationError

from ..auth.models import User
from ..auth.passwords import one_time_password
from ..errors import ApiError, InvalidInput
from ..extensions import db
from ..messages import message
from .schemas import UserCreateSchema, VillageCreateSchema
from .services import create_user, create_village, set_linked_villages

VILLAGE_COLUMNS = ("code", "name", "township_code", "lat", "lon", "radius_m", "crs")
USER_COLUMNS = ("username", "name", "role", "unit_code", "active_from", "active_until",
                "village_codes")
MAX_ROWS = 100_000


def read_rows(text: str, required: tuple[str, ...], known: tuple[str, ...]) -> list[dict]:
    """Parse CSV text (a BOM is fine; any line ending) into rows; header problems are row 1
    errors, and what the csv module cannot read is an error of the row it stopped at."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff"), newline=""))
    rows: list[dict] = []
    try:
        check_header(reader.fieldnames or [], required, known)
        for row in reader:
            rows.append({k.strip(): (v or "").strip() for k, v in row.items() if k is not None})
            if len(rows) > MAX_ROWS:
                raise CsvInvalid([{"row": len(rows) + 1, "column": "",
                                   "message": "too many rows"}])
    except csv.Error as exc:  # e.g. a field longer than the csv module takes
        row_no = len(rows) + 2 if reader.line_num else 1
        raise CsvInvalid([{"row": row_no, "column": "", "message": str(exc)}]) from None
    return rows


def check_header(fieldnames: list[str], required: tuple[str, ...], known: tuple[str, ...]):
    """Raise CsvInvalid naming every missing or unknown column (as row 1 errors)."""
    header = [h.strip() for h in fieldnames]
    errors = [{"row": 1, "column": c, "message": "missing column"}
              for c in required if c not in header]
    errors += [{"row": 1, "column": c, "message": "unknown column"}
               for c in header if c not in known]
    if errors:
        raise CsvInvalid(errors)


class CsvInvalid(InvalidInput):
    """The file has errors; ``errors`` lists each with its row and column."""

    def __init__(self, problems: list[dict]):
        super().__init__("csv_invalid", errors={"rows": problems}, count=len(problems))
        self.problems = problems


def _load(schema: Schema, row: dict, row_no: int, problems: list[dict],
          skip: tuple[str, ...]) -> dict | None:
    data = {k: v for k, v in row.items() if v != "" and k not in skip}
    try:
        return schema.load(data)
    except ValidationError as exc:
        for column, messages in exc.normalized_messages().items():
            problems.append({"row": row_no, "column": column, "message": "; ".join(
                m if isinstance(m, str) else str(m) for m in messages)})
        return None


def _apply(rows: list[dict], schema: Schema, write, skip: tuple[str, ...] = ()) -> list:
    """Validate and stage every row, collecting every error; then all rows stay or none."""
    problems: list[dict] = []
    results = []
    for row_no, row in enumerate(rows, start=2):  # row 1 is the header
        data = _load(schema, row, row_no, problems, skip)
        if data is None:
            continue
        try:
            results.append(write(data, row))
            db.session.flush()
        except ApiError as exc:
            columns = list((exc.errors or {"": [exc.code]}).keys())
            for column in columns:
                problems.append({"row": row_no, "column": column.split(".")[0],
                                 "message": _message(exc)})
    if problems:
        db.session.rollback()
        raise CsvInvalid(problems)
    return results


def _message(exc: ApiError) -> str:
    return message(exc.code, **exc.params)


def import_villages(actor: User | None, text: str) -> int:
    """Import villages from CSV text; return how many were written."""
    rows = read_rows(text, VILLAGE_COLUMNS[:5], VILLAGE_COLUMNS)
    written = _apply(rows, VillageCreateSchema(), lambda data, row: create_village(actor, data))
    db.session.commit()
    return len(written)


def import_users(actor: User | None, text: str) -> dict[str, str]:
    """Import users from CSV text; return each new username's one-time password."""
    rows = read_rows(text, USER_COLUMNS[:4], USER_COLUMNS)
    for row in rows:
        row["password"] = one_time_password()

    def write(data: dict, row: dict):
        user = create_user(actor, data, must_change_password=True)
        codes = row.get("village_codes", "").replace(";", " ").split()
        if codes:
            db.session.flush()
            set_linked_villages(None, user, codes)
        return user.username, data["password"]

    passwords = dict(_apply(rows, UserCreateSchema(), write, skip=("village_codes",)))
    db.session.commit()
    return passwords
