"""The API's parsers: DRF's, refusing what the database cannot store or Python cannot parse
safely, once for every endpoint, before any serializer sees the data.

- JSON nested deeper than MAX_DEPTH levels: 400 (json raises RecursionError at about a
  thousand levels, which DRF does not catch: a 500).
- A NUL character (\\x00) or an unpaired surrogate (\\ud800) in any string, key or value, at
  any depth: 400 naming the field by its path ("answers.0.text"). PostgreSQL refuses both in
  text and jsonb (psycopg raises; SQLite stores them).
- An integer outside the signed 64-bit range, or a number too large for a float (1e400 parses
  as infinity): 400 naming the field (the database's bigint overflows).
Form and multipart bodies get the NUL check on every value and file name."""
import math
import re

from rest_framework import parsers
from rest_framework.exceptions import ParseError, ValidationError

MAX_DEPTH = 64
MAX_ERRORS = 20
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
NUL_MESSAGE = "Null characters are not allowed."
SURROGATE_MESSAGE = "Unpaired surrogate characters are not allowed."
NUMBER_MESSAGE = "This number is out of range."


def _string_problem(text):
    match = _UNSTORABLE.search(text)
    if match is None:
        return None
    return NUL_MESSAGE if match.group() == "\x00" else SURROGATE_MESSAGE


def _printable(key):
    return _UNSTORABLE.sub(lambda m: m.group().encode("unicode_escape", "backslashreplace").decode("ascii"), key)


def _path(parts):
    return ".".join(parts) or "non_field_errors"


def check_json(data):
    """Raise ParseError when `data` is nested deeper than MAX_DEPTH, ValidationError (field
    path -> messages) when a string, key or number cannot be stored. Iterative: no recursion
    however deep the data."""
    errors = {}
    stack = [(data, (), 0)]
    while stack and len(errors) < MAX_ERRORS:
        value, path, depth = stack.pop()
        if isinstance(value, (dict, list)):
            if depth >= MAX_DEPTH:
                raise ParseError(f"JSON parse error - nested deeper than {MAX_DEPTH} levels.")
            if isinstance(value, dict):
                for key, item in value.items():
                    problem = _string_problem(key)
                    if problem:
                        errors.setdefault(_path((*path, _printable(key))), []).append(problem)
                        continue
                    stack.append((item, (*path, key), depth + 1))
            else:
                stack.extend((item, (*path, str(index)), depth + 1) for index, item in enumerate(value))
        elif isinstance(value, str):
            problem = _string_problem(value)
            if problem:
                errors.setdefault(_path(path), []).append(problem)
        elif type(value) is int:
            if not INT64_MIN <= value <= INT64_MAX:
                errors.setdefault(_path(path), []).append(NUMBER_MESSAGE)
        elif type(value) is float and not math.isfinite(value):
            errors.setdefault(_path(path), []).append(NUMBER_MESSAGE)
    if errors:
        raise ValidationError(errors)


def check_form(data, files=None):
    """The NUL check for a QueryDict of form values, and the names of uploaded files."""
    errors = {}
    for key, values in data.lists():
        problem = _string_problem(key) or next(filter(None, map(_string_problem, values)), None)
        if problem:
            errors[_printable(key)] = [problem]
    for key, uploads in (files.lists() if files is not None else ()):
        if any(_string_problem(upload.name or "") for upload in uploads):
            errors[_printable(key)] = [NUL_MESSAGE]
    if errors:
        raise ValidationError(errors)


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(f"JSON parse error - nested deeper than {MAX_DEPTH} levels.")
        check_json(data)
        return data


class FormParser(parsers.FormParser):
    def parse(self, stream, media_type=None, parser_context=None):
        data = super().parse(stream, media_type, parser_context)
        check_form(data)
        return data


class MultiPartParser(parsers.MultiPartParser):
    def parse(self, stream, media_type=None, parser_context=None):
        result = super().parse(stream, media_type, parser_context)
        check_form(result.data, result.files)
        return result
