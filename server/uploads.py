"""Reading an uploaded text file: a multipart ``file`` field or the raw body, UTF-8."""
from flask import request

from .errors import InvalidInput

# The OpenAPI request body of an upload: the raw CSV, or a multipart form with a ``file``.
CSV_UPLOAD = {"required": True, "content": {
    "text/csv": {"schema": {"type": "string"}},
    "multipart/form-data": {"schema": {
        "type": "object", "required": ["file"],
        "properties": {"file": {"type": "string", "format": "binary"}}}},
}}


def uploaded_text() -> str:
    """The upload as text (a BOM is dropped); not UTF-8, or holding U+0000 → 422 naming row 0."""
    upload = request.files.get("file")
    raw = upload.read() if upload else request.get_data()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = None
    if text is None or "\x00" in text:  # U+0000 cannot be stored in PostgreSQL text
        problem = "not UTF-8" if text is None else "contains U+0000"
        raise InvalidInput("csv_invalid", count=1, errors={"rows": [
            {"row": 0, "column": "", "message": problem}]})
    return text
