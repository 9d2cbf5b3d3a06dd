"""The refusals every operation shares, declared once for the whole OpenAPI document.

flask-smorest documents each view's own success response (and its ``alt_response``s); the
refusals follow from what an operation takes, so they are derived here instead of being
repeated on forty views, and the document lists every status the service really answers
(there is no catch-all ``default`` response to hide an undocumented one):

- every operation: 503 with ``Retry-After`` (the database does not answer);
- behind a login (all but ``security: []``): 401, and 403 (role, scope, or a one-time password
  still to change);
- a path with an id or code in it: 404 (absent, or out of the caller's scope);
- a request body: 400 (not JSON), 413 (too large), 422 (invalid); query arguments: 422;
- a write (POST, PUT, PATCH): 409 (conflicts with stored data) and 422 (refused by a domain rule,
  e.g. an unknown village in a schema-valid body).

A view's own declaration of a status wins over the derived one.
"""
from __future__ import annotations

import re
from http import HTTPStatus

from apispec import BasePlugin

from .schemas import ErrorSchema

WRITES = {"post", "put", "patch"}
RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait before retrying", "required": True,
                               "schema": {"type": "integer", "minimum": 1}}}
# Refusals that carry Retry-After get their own response components.
WITH_RETRY_AFTER = {429: "THROTTLED", 503: "UNAVAILABLE"}


def refusals(path: str, method: str, operation: dict) -> set[int]:
    """Return the error statuses an operation can answer with."""
    statuses = {503}
    if operation.get("security") != []:
        statuses |= {401, 403}
    if "{" in path:
        statuses.add(404)
    if "requestBody" in operation:
        statuses |= {400, 413, 422}
    if any(p.get("in") == "query" for p in operation.get("parameters", [])
           if isinstance(p, dict)):
        statuses.add(422)
    if method in WRITES:
        statuses |= {409, 422}
    return statuses


class ErrorResponsesPlugin(BasePlugin):
    """An apispec plugin adding the shared refusals to every operation."""

    def init_spec(self, spec) -> None:
        super().init_spec(spec)
        for status, name in WITH_RETRY_AFTER.items():
            spec.components.response(name, {
                "description": HTTPStatus(status).phrase, "headers": RETRY_AFTER,
                "content": {"application/json": {"schema": ErrorSchema}}}, lazy=True)

    def schema_helper(self, name, definition, **kwargs) -> dict:
        return _nullable_refs_stay_typed(definition)

    def operation_helper(self, path=None, operations=None, **kwargs) -> None:
        for method, operation in (operations or {}).items():
            for key in ("summary", "description"):
                if isinstance(operation.get(key), str):
                    operation[key] = as_markdown(operation[key])
            responses = operation.setdefault("responses", {})
            declared = {str(code) for code in responses}
            for status in sorted(refusals(path or "", method, operation)):
                if str(status) not in declared:
                    responses[str(status)] = WITH_RETRY_AFTER.get(status, HTTPStatus(status).name)
            for response in responses.values():
                _pagination_is_json(response)


def as_markdown(text: str) -> str:
    """Docstrings are reST (``code``); the docs page renders CommonMark, where the same text
    would show its backticks: one backtick each side says code there."""
    return re.sub(r"``(.+?)``", r"`\1`", text)


def _pagination_is_json(response) -> None:
    """flask-smorest documents ``X-Pagination`` with a ``schema``, which in OpenAPI means a
    comma-separated header value; the header carries JSON, which OpenAPI says with ``content``."""
    headers = response.get("headers", {}) if isinstance(response, dict) else {}
    if headers.get("X-Pagination") == "PAGINATION":
        headers["X-Pagination"] = {
            "description": "Pagination metadata, a JSON object",
            "content": {"application/json": {"schema": "PaginationMetadata"}}}


def _nullable_refs_stay_typed(node):
    """apispec writes a nullable nested schema for OpenAPI 3.0 as ``anyOf: [{type: object,
    nullable: true}, {$ref}]``, whose first branch admits *any* object; say "this schema, or
    null" instead: ``{allOf: [{$ref}], nullable: true}``."""
    if isinstance(node, list):
        return [_nullable_refs_stay_typed(item) for item in node]
    if not isinstance(node, dict):
        return node
    options = node.get("anyOf")
    if (isinstance(options, list) and len(options) == 2
            and {"type": "object", "nullable": True} in options):
        rest = {k: v for k, v in node.items() if k != "anyOf"}
        ref = next(option for option in options if option != {"type": "object", "nullable": True})
        return {**rest, "allOf": [ref], "nullable": True}
    return {key: _nullable_refs_stay_typed(value) for key, value in node.items()}

