"""The digest a replayed request is recognised by (idempotency by ``client_id``)."""
from __future__ import annotations

import hashlib
import json
import uuid
from datetime import date, datetime
from zoneinfo import ZoneInfo


def _canonical(value):
    if isinstance(value, dict):
        return {k: _canonical(v) for k, v in sorted(value.items()) if v is not None}
    if isinstance(value, list):
        return [_canonical(v) for v in value]
    if isinstance(value, datetime):
        return value.astimezone(ZoneInfo("UTC")).isoformat()
    if isinstance(value, (uuid.UUID, date)):
        return str(value)
    return value


def fingerprint(data: dict) -> str:
    """A digest of a parsed request: key order, offset notation and absent-vs-null ignored."""
    return hashlib.sha256(json.dumps(_canonical(data), sort_keys=True).encode()).hexdigest()
