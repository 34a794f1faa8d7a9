"""FHIR search parameters: reading `?name[:modifier]=value` into a database condition.

Supported (R4 search, a strict subset, CapabilityStatement says exactly which per resource):
- Repeating a parameter ANDs its conditions; a comma inside one value ORs them.
- date: `[prefix]value` with prefix eq (default), ne, lt, le, gt, ge; value YYYY, YYYY-MM,
  YYYY-MM-DD, or a date and time (with seconds optional) with `Z` or an offset. A time without
  an offset is read in the clinic's timezone (so a time inside its DST gap, or in the repeated
  hour, is refused). A value stands for the range it covers: `date=2026-03` is all of March;
  `lt2026-03` before March, `gt2026-03` after it. Years outside 1800..2199 are refused
  (apps/core/validation.py).
- token: `code`, `system|code`, `|code` (no system) or `system|`; a code this server never
  emits is refused (400) rather than silently matching nothing.
- reference: `Type/id`, `id`, or an absolute URL ending in `Type/id`.
- string: starts-with, case-insensitive; `:exact` (case-sensitive equality) and `:contains`.
- Paging: `_count` (0 to MAX_COUNT, default DEFAULT_COUNT; more is cut to MAX_COUNT; 0 gives
  only the total) and `_offset` (rows to skip). `_format` (JSON only) is read by the views.
Anything else (another parameter or modifier, an empty value) is a 400 OperationOutcome naming
the parameter; unknown parameters are refused, not ignored, so a client never mistakes an
unfiltered answer for a filtered one."""
import dataclasses
import datetime
import re
import uuid
from typing import Callable

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone

from apps.core.timezones import clinic_zone
from apps.core.validation import check_date, check_datetime, text_problem
from apps.fhir.outcome import SearchError

DEFAULT_COUNT = 20
MAX_COUNT = 100
INT64_MAX = 2**63 - 1
CONTROL = ("_count", "_offset", "_format")

_DIGITS = re.compile(r"[0-9]{1,19}")
_DATE = re.compile(
    r"(?P<year>[0-9]{4})(?:-(?P<month>[0-9]{2})(?:-(?P<day>[0-9]{2})"
    r"(?:T(?P<hour>[0-9]{2}):(?P<minute>[0-9]{2})(?::(?P<second>[0-9]{2})(?:\.[0-9]{1,9})?)?"
    r"(?P<zone>Z|[+-][0-9]{2}:[0-9]{2})?)?)?)?"
)
_PREFIXES = ("eq", "ne", "lt", "le", "gt", "ge")
_UNSUPPORTED_PREFIXES = ("sa", "eb", "ap")
NOTHING = Q(pk__in=[])


@dataclasses.dataclass(frozen=True)
class Param:
    """One search parameter of a resource type. `condition(value, modifier)` turns one value
    (already split on commas) into a Q; it raises ValueError with a message for a value it
    cannot read."""

    name: str
    type: str  # date | token | reference | string (FHIR's search parameter types)
    documentation: str
    condition: Callable
    modifiers: tuple = ()


# --- the parameter types --------------------------------------------------------------------

def _parse_date(text):
    """(low, high, is_date): the range a date search value covers, [low, high). Dates for a
    value without a time, aware datetimes for one with a time."""
    match = _DATE.fullmatch(text)
    if not match:
        raise ValueError("give a date as YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDThh:mm[:ss][Z|+hh:mm].")
    parts = {k: int(v) for k, v in match.groupdict().items() if v is not None and k != "zone"}
    try:
        if "hour" not in parts:
            low = datetime.date(parts["year"], parts.get("month", 1), parts.get("day", 1))
            check_date(low)
            if "day" in parts:
                high = low + datetime.timedelta(days=1)
            elif "month" in parts:
                high = (low.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
            else:
                high = low.replace(year=low.year + 1)
            return low, high, True
        naive = datetime.datetime(parts["year"], parts["month"], parts["day"], parts["hour"], parts["minute"], parts.get("second", 0))
        zone = match.group("zone")
        if zone:
            offset = datetime.timezone.utc if zone == "Z" else datetime.timezone(
                (1 if zone[0] == "+" else -1) * datetime.timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6])))
            naive = naive.replace(tzinfo=offset)
        low = check_datetime(naive, clinic_zone())
        precision = datetime.timedelta(seconds=1) if "second" in parts else datetime.timedelta(minutes=1)
        return low, low + precision, False
    except ValidationError as exc:
        raise ValueError(" ".join(exc.messages))
    except (ValueError, OverflowError):
        raise ValueError("this date does not exist.")


def date_param(name, field, documentation, *, is_date_field=False):
    """A date parameter over `field`: a DateField (is_date_field) or a DateTimeField."""

    def condition(value, modifier):
        prefix = "eq"
        if value[:2] in _PREFIXES or value[:2] in _UNSUPPORTED_PREFIXES:
            prefix, value = value[:2], value[2:]
        if prefix in _UNSUPPORTED_PREFIXES:
            raise ValueError(f"the prefix {prefix} is not supported (use eq, ne, lt, le, gt or ge).")
        low, high, is_date = _parse_date(value)
        if is_date_field and not is_date:
            low, high = low.astimezone(clinic_zone()).date(), high.astimezone(clinic_zone()).date()
            if high == low:
                high = low + datetime.timedelta(days=1)
        elif not is_date_field and is_date:
            zone = clinic_zone()
            low, high = _start_of(low, zone), _start_of(high, zone)
        within = Q(**{f"{field}__gte": low, f"{field}__lt": high})
        return {
            "eq": within, "ne": ~within,
            "lt": Q(**{f"{field}__lt": low}), "le": Q(**{f"{field}__lt": high}),
            "gt": Q(**{f"{field}__gte": high}), "ge": Q(**{f"{field}__gte": low}),
        }[prefix]

    return Param(name, "date", documentation, condition)


def _start_of(day, zone):
    return timezone.make_aware(datetime.datetime(day.year, day.month, day.day), zone)


def token_param(name, documentation, condition):
    """A token parameter: condition(system or None, code) -> Q. `system` is None when the value
    gives none (`code`), "" for `|code` (explicitly no system)."""

    def parse(value, modifier):
        system, bar, code = value.rpartition("|")
        if not code:
            raise ValueError("give a code (system|code, or code).")
        return condition(system if bar else None, code)

    return Param(name, "token", documentation, parse)


def code_param(name, documentation, field, codes, *, system=None):
    """A token parameter over a status-like field: `codes` maps each FHIR code to the stored
    values it stands for. A code not in the table is refused, naming the ones there are."""

    def condition(given_system, code):
        if given_system not in (None, "") and given_system != system:
            return NOTHING
        if code not in codes:
            raise ValueError(f"the codes are {', '.join(codes)}.")
        return Q(**{f"{field}__in": list(codes[code])})

    return token_param(name, documentation, condition)


def uuid_of(text):
    """The UUID `text` spells, or None (any other text is no id of ours)."""
    if len(text) > 36:
        return None
    try:
        return uuid.UUID(text)
    except ValueError:
        return None


def reference_param(name, documentation, targets, *, parse_id=uuid_of):
    """A reference parameter: `targets` maps each resource type it may point at to
    condition(id) -> Q, with the id parsed by parse_id (None: not an id of ours, refused). A bare
    id matches any of the targets."""

    def parse(value, modifier):
        text, chosen = value, targets
        if "/" in text:
            head, _, text = text.rpartition("/")
            kind = head.rpartition("/")[2]
            if kind not in targets:
                raise ValueError(f"give a reference to {' or '.join(targets)} (Type/id).")
            chosen = {kind: targets[kind]}
        parsed = parse_id(text)
        if parsed is None:
            raise ValueError(f"“{value[:80]}” is not the id of a {' or '.join(chosen)} of this server.")
        result = Q()
        for condition in chosen.values():
            result |= condition(parsed)
        return result

    return Param(name, "reference", documentation, parse)


def string_param(name, fields, documentation):
    """A string parameter matching any of `fields`."""

    def condition(value, modifier):
        lookup = {"": "istartswith", "exact": "exact", "contains": "icontains"}[modifier]
        result = Q()
        for field in fields:
            result |= Q(**{f"{field}__{lookup}": value})
        return result

    return Param(name, "string", documentation, condition, modifiers=("exact", "contains"))


# --- a request's search ---------------------------------------------------------------------

@dataclasses.dataclass
class Search:
    condition: Q
    count: int
    offset: int
    pairs: list  # (name, value) of the filters as given, for the bundle's links


def _whole_number(name, text, *, low, high):
    if not _DIGITS.fullmatch(text) or not low <= int(text) <= INT64_MAX:
        raise SearchError(name, f"give a whole number of {low} or more.")
    return min(int(text), high)


def parse(query, params):
    """The Search that `query` (a QueryDict) asks of a resource type with these `params` (name
    -> Param). SearchError (400) for anything it cannot use."""
    condition = Q()
    pairs = []
    count, offset = DEFAULT_COUNT, 0
    for key, values in query.lists():
        for value in values:
            problem = text_problem(key) or text_problem(value)
            if problem:
                raise SearchError(key, problem)
        if key in CONTROL:
            if len(values) > 1:
                raise SearchError(key, "give it once.")
            if key == "_count":
                count = _whole_number(key, values[0], low=0, high=MAX_COUNT)
            elif key == "_offset":
                offset = _whole_number(key, values[0], low=0, high=INT64_MAX)
            continue
        name, _, modifier = key.partition(":")
        param = params.get(name)
        if param is None:
            supported = ", ".join(sorted(params)) or "none"
            raise SearchError(key, f"this server does not support it here (supported: {supported}, _count, _offset).",
                              code="not-supported")
        if modifier and modifier not in param.modifiers:
            raise SearchError(key, f"the modifier :{modifier} is not supported.", code="not-supported")
        for value in values:
            if value == "":
                raise SearchError(key, "give a value, or leave the parameter out.")
            either = Q()
            for part in value.split(","):
                if part == "":
                    raise SearchError(key, "a comma-separated list has an empty value.")
                try:
                    either |= param.condition(part, modifier)
                except ValueError as exc:
                    raise SearchError(key, str(exc))
            condition &= either
            pairs.append((key, value))
    return Search(condition=condition, count=count, offset=offset, pairs=pairs)
