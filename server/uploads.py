"""Reading an uploaded text file: a multipart ``file`` field or the raw body, UTF-8."""
from flask import request

from .errors import InvalidInput


def uploaded_text() -> str:
    """The upload as text (a BOM is dropped); not UTF-8 → 422 naming row 0."""
    upload = request.files.get("file")
    raw = upload.read() if upload else request.get_data()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput("csv_invalid", count=1, errors={"rows": [
            {"row": 0, "column": "", "message": "not UTF-8"}]}) from None
