"""The OpenAPI schema tells the truth about errors: every operation documents the answers the
shared layers can give it, in the one error format, unless the view documented them itself.

- 400: any operation with a request body or query parameters (field errors, hostile input:
  apps/core/api/parsers.py, apps/core/api/pagination.py, the NUL middleware).
- 401 and 403: every operation that needs credentials (no key, a key without the scope, staff
  without the permission or second factor).
- 404: any operation with a path parameter (missing, malformed and not-yours alike), and any
  paginated list (`?page=` past the last page, or not a page number: apps/core/api/pagination.py).
- 409: every write (a conflict with the current state: InvalidTransition and friends).
- 429: every operation (throttling).
A drf-spectacular postprocessing hook (SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"])."""

ERROR_COMPONENT = "Error"
ERROR_SCHEMA = {
    "type": "object",
    "description": "The API's one error format (apps/core/api/errors.py).",
    "properties": {
        "code": {"type": "string", "description": "Stable snake_case code, e.g. validation_error, invalid_transition."},
        "message": {"type": "string"},
        "extra": {
            "type": "object",
            "additionalProperties": True,
            "description": "Details; field errors in extra.fields ({field: [message, ...]}).",
        },
    },
    "required": ["code", "message", "extra"],
}
DESCRIPTIONS = {
    "400": "The request is not valid (field errors in extra.fields).",
    "401": "No valid credentials.",
    "403": "The credentials do not allow this.",
    "404": "Not found (or not yours to see).",
    "404_page": "No such page: `page` is past the last page or not a page number.",
    "409": "Conflicts with the current state.",
    "429": "Too many requests (extra.retry_after_seconds).",
}
WRITES = {"post", "put", "patch", "delete"}
METHODS = WRITES | {"get", "head", "options"}


def _parameters(operation, path_item):
    return [*path_item.get("parameters", []), *operation.get("parameters", [])]


def _has_path_id(parameters):
    return any(p.get("in") == "path" for p in parameters)


def _paginated(parameters):
    return any(p.get("in") == "query" and p.get("name") == "page" for p in parameters)


def _codes(method, operation, path_item):
    parameters = _parameters(operation, path_item)
    codes = ["429"]
    if operation.get("security") != []:  # an empty list means "no authentication needed"
        codes += ["401", "403"]
    if method in WRITES and method != "delete" or any(p.get("in") == "query" for p in parameters) or "requestBody" in operation:
        codes.append("400")
    if _has_path_id(parameters) or _paginated(parameters):
        codes.append("404")
    if method in WRITES:
        codes.append("409")
    return codes


def _description(code, operation, path_item):
    if code == "404" and not _has_path_id(_parameters(operation, path_item)):
        return DESCRIPTIONS["404_page"]
    return DESCRIPTIONS[code]


def document_errors(result, generator, request, public):
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components.setdefault(ERROR_COMPONENT, ERROR_SCHEMA)
    reference = {"$ref": f"#/components/schemas/{ERROR_COMPONENT}"}
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if method not in METHODS:
                continue
            responses = operation.setdefault("responses", {})
            for code in _codes(method, operation, path_item):
                responses.setdefault(code, {
                    "description": _description(code, operation, path_item),
                    "content": {"application/json": {"schema": reference}},
                })
    return result
