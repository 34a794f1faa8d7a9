"""What hostile input must not get past, in one place. The API's serializers and query filters,
the pages' forms and the Twilio webhooks all validate with these rules, so the portal and the
API refuse the same input with the same words, as a 400 (or a form error) naming the field:

- Text without NUL (\\x00) or unpaired surrogates: PostgreSQL refuses both in text and jsonb
  (SQLite stores them), so one that reaches the database is a 500 there only.
- Integers (ids, counts) within the signed 64-bit range of the database's bigint: past it a
  filter raises OverflowError (SQLite) or DataError (PostgreSQL).
- Dates within the supported years (MIN_YEAR to MAX_YEAR): year 1 and 9999 are valid Python
  dates, but a day or a UTC offset away they overflow `datetime`.
- Datetimes that exist in the zone they are read in. A time without an offset is a wall-clock
  time there: one inside the DST gap (02:30 on the spring-forward night) names no instant and
  one in the repeated hour names two, so both are refused with the zone named (Django's forms
  refused them already; DRF accepted the gap). A time with an offset is an instant, converted
  to the zone; its local date must still be within the supported years.
- Times of day (quiet hours) are wall-clock times in the patient's zone: an offset is refused,
  never silently dropped.
- Dates people choose ahead (preferred dates, the day to book): today to `days` ahead.

Each rule is a function raising django.core.exceptions.ValidationError; the field classes
below apply them for Django forms (DateField, DateTimeField, Int64Field, ...), DRF
serializers (ApiDateField, ApiDateTimeField, ApiTimeOfDayField, ApiBooleanField, QueryInput)
and django-filter (Int64Filter, StrictBooleanFilter, StrictFilterSet)."""
import datetime
import re

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.utils import html

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
MIN_YEAR, MAX_YEAR = 1800, 2199
OLDEST_AGE_YEARS = 130

# The same words as the API's parsers and the query middleware (apps/core/api/parsers.py,
# apps/core/middleware.py) and Django's own ProhibitNullCharactersValidator.
NUL_MESSAGE = "Null characters are not allowed."
SURROGATE_MESSAGE = "Unpaired surrogate characters are not allowed."
INT64_MESSAGE = f"Enter a whole number between {INT64_MIN} and {INT64_MAX}."
YEAR_MESSAGE = f"Enter a date between the years {MIN_YEAR} and {MAX_YEAR}."
EMPTY_MESSAGE = "Give a value, or leave the parameter out."
BOOLEAN_MESSAGE = "Must be true or false."
OFFSET_MESSAGE = "Give the time of day without an offset: it is read in the patient's timezone."

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_INTEGER = re.compile(r"[+-]?[0-9]{1,19}")
_TIME_OFFSET = re.compile(r"(?:[zZ]|[+-]\d{2}(?::?\d{2}(?::?\d{2})?)?)$")
_TRUE, _FALSE = {"true", "1"}, {"false", "0"}


# --- the rules ------------------------------------------------------------------------------

def text_problem(value):
    """The message for a string the database cannot store (NUL, unpaired surrogate), or None."""
    match = _UNSTORABLE.search(value)
    if match is None:
        return None
    return NUL_MESSAGE if match.group() == "\x00" else SURROGATE_MESSAGE


def check_text(value, *, max_length=None):
    """`value` (a str) if the database can store it in a column of `max_length`."""
    problem = text_problem(value)
    if problem:
        raise ValidationError(problem, code="null_characters_not_allowed")
    if max_length is not None and len(value) > max_length:
        raise ValidationError(f"Ensure this value has at most {max_length} characters (it has {len(value)}).", code="max_length")
    return value


def storable_text(value, replacement="\ufffd"):
    """`value` with each NUL and unpaired surrogate replaced (U+FFFD): for text we must keep
    although it arrived damaged (an SMS body; some gateways turn a GSM '@' into NUL)."""
    return _UNSTORABLE.sub(replacement, value)


def check_int64(value):
    """`value` (an int, or the digits of one) as an int within the signed 64-bit range."""
    if isinstance(value, bool):
        raise ValidationError(INT64_MESSAGE, code="int64")
    if isinstance(value, str):
        text = value.strip()
        if not _INTEGER.fullmatch(text):
            raise ValidationError(INT64_MESSAGE, code="int64")
        value = int(text)
    if not isinstance(value, int) or not INT64_MIN <= value <= INT64_MAX:
        raise ValidationError(INT64_MESSAGE, code="int64")
    return value


def int64_or_none(value):
    """The int `value` stands for when it is one within 64 bits, else None."""
    try:
        return check_int64(value)
    except ValidationError:
        return None


def check_date(value):
    """`value` (a date) if its year is supported."""
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise ValidationError(YEAR_MESSAGE, code="date_out_of_range")
    return value


def check_datetime(value, zone):
    """`value` as an aware datetime in `zone`. Naive: a wall-clock time in `zone`, refused when
    the zone's clocks skip it (the DST gap) or show it twice (the hour repeated when they go
    back). Aware: the instant, converted. Either way its local date is within the supported
    years."""
    if timezone.is_aware(value):
        try:
            local = value.astimezone(zone)
        except (OverflowError, ValueError):
            raise ValidationError(YEAR_MESSAGE, code="date_out_of_range")
        check_date(local)
        return local
    check_date(value)
    aware = value.replace(tzinfo=zone, fold=0)
    if aware.astimezone(datetime.timezone.utc).astimezone(zone).replace(tzinfo=None) != value:
        raise ValidationError(
            f"{value:%Y-%m-%d %H:%M} does not exist in {zone}: the clocks skip that hour. "
            "Give another time, or an offset.", code="nonexistent_time")
    if value.replace(tzinfo=zone, fold=1).utcoffset() != aware.utcoffset():
        raise ValidationError(
            f"{value:%Y-%m-%d %H:%M} happens twice in {zone}: the clocks go back that night. "
            "Give an offset to say which one.", code="ambiguous_time")
    return aware


def check_time_of_day(text):
    """A time of day as typed (`text`, a str): refused when it carries an offset."""
    if isinstance(text, str) and _TIME_OFFSET.search(text.strip()):
        raise ValidationError(OFFSET_MESSAGE, code="time_offset")
    return text


def check_birth_date(value, *, today=None):
    """A date of birth: not in the future, at most OLDEST_AGE_YEARS ago (so within the
    supported years, with words that say what is wrong)."""
    today = today or timezone.localdate()
    if value > today:
        raise ValidationError("Date of birth cannot be in the future.", code="future")
    if value.year < today.year - OLDEST_AGE_YEARS:
        raise ValidationError("Check the year of birth.", code="too_old")
    return value


def check_upcoming_date(value, *, days, noun="date", today=None):
    """A date chosen ahead (a preferred date, the day to book): from today (the clinic's) to
    `days` ahead."""
    check_date(value)
    today = today or timezone.localdate()
    horizon = today + datetime.timedelta(days=days)
    if not today <= value <= horizon:
        raise ValidationError(f"Choose a {noun} between today and {horizon:%b} {horizon.day}, {horizon.year}.",
                              code="out_of_horizon")
    return value


# --- Django form fields ---------------------------------------------------------------------

class DateField(forms.DateField):
    """A date within the supported years."""

    def to_python(self, value):
        value = super().to_python(value)
        return None if value is None else check_date(value)


class BirthDateField(forms.DateField):
    def to_python(self, value):
        value = super().to_python(value)
        return None if value is None else check_birth_date(value)


class DateTimeField(forms.DateTimeField):
    """A datetime that exists in the current timezone (check_datetime), with the same words as
    the API for the DST gap and the repeated hour."""

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if isinstance(value, datetime.datetime):
            result = value
        elif isinstance(value, datetime.date):
            result = datetime.datetime(value.year, value.month, value.day)
        else:
            try:
                result = parse_datetime(value.strip())
            except ValueError:
                raise ValidationError(self.error_messages["invalid"], code="invalid")
            if not result:
                result = forms.fields.BaseTemporalField.to_python(self, value)
        return check_datetime(result, timezone.get_current_timezone())


class Int64Field(forms.IntegerField):
    """A whole number (an id) within the signed 64-bit range."""

    def __init__(self, *, min_value=INT64_MIN, max_value=INT64_MAX, **kwargs):
        super().__init__(min_value=min_value, max_value=max_value, **kwargs)


class StrictBooleanField(forms.Field):
    """true/false (or 1/0) in a query string; anything else is an error, not "no filter"."""

    def to_python(self, value):
        if value in (None, ""):
            return None
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise ValidationError(BOOLEAN_MESSAGE, code="invalid")


# --- DRF serializer fields ------------------------------------------------------------------

def for_api(rule, *args, **kwargs):
    """rule(*args, **kwargs), its ValidationError as DRF's (a serializer's field error)."""
    try:
        return rule(*args, **kwargs)
    except ValidationError as exc:
        raise serializers.ValidationError(exc.messages)


class ApiDateField(serializers.DateField):
    """A date within the supported years."""

    def to_internal_value(self, value):
        return for_api(check_date, super().to_internal_value(value))


class ApiBirthDateField(serializers.DateField):
    def to_internal_value(self, value):
        return for_api(check_birth_date, super().to_internal_value(value))


class ApiDateTimeField(serializers.DateTimeField):
    """A datetime that exists in the field's zone (the current one by default): check_datetime.
    DRF's own field refuses the repeated hour but accepts the DST gap."""

    def enforce_timezone(self, value):
        zone = self.timezone if hasattr(self, "timezone") else self.default_timezone()
        return for_api(check_datetime, value, zone)


# A wall-clock time of day, as the schema shows it: not OpenAPI's `format: time`, which is RFC
# 3339's full-time and so requires the offset these fields refuse.
TIME_OF_DAY_SCHEMA = {
    "type": "string", "pattern": r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?$", "example": "21:30",
}


@extend_schema_field(TIME_OF_DAY_SCHEMA)
class ApiTimeOfDayField(serializers.TimeField):
    """A wall-clock time of day: an offset is refused (DRF's field drops it silently). Its
    output is TimeField's (HH:MM:SS), without an offset."""

    def to_internal_value(self, value):
        for_api(check_time_of_day, value)
        return super().to_internal_value(value)


class ApiBooleanField(serializers.BooleanField):
    """A boolean that is never ignored: an empty form value (`email_opt_in=`) is refused, as
    DRF's field would skip it on a form-encoded request."""

    def get_value(self, dictionary):
        if html.is_html_input(dictionary) and dictionary.get(self.field_name, None) == "":
            return ""
        return super().get_value(dictionary)


class QueryInput(serializers.Serializer):
    """The query parameters of a list: a parameter given with no value (`?type=`) is a 400
    naming it, not "no filter" (DRF skips empty optional values of a query string)."""

    def to_internal_value(self, data):
        empty = {name: [EMPTY_MESSAGE] for name in self.fields if hasattr(data, "getlist") and "" in data.getlist(name)}
        if empty:
            raise serializers.ValidationError(empty)
        return super().to_internal_value(data)


# --- django-filter --------------------------------------------------------------------------

@extend_schema_field({"type": "integer", "format": "int64", "minimum": INT64_MIN, "maximum": INT64_MAX})
class Int64Filter(django_filters.NumberFilter):
    field_class = Int64Field


class StrictBooleanFilter(django_filters.BooleanFilter):
    field_class = StrictBooleanField


class StrictFilterSet(django_filters.FilterSet):
    """A FilterSet whose parameters, when given, hold a value: `?status=` is a 400 naming
    status, where django-filter reads it as "no filter"."""

    def get_form_class(self):
        form_class = super().get_form_class()
        names = list(self.filters)

        class Form(form_class):
            def clean(self):
                cleaned = super().clean()
                for name in names:
                    if hasattr(self.data, "getlist") and "" in self.data.getlist(name):
                        self.add_error(name, EMPTY_MESSAGE)
                return cleaned

        return Form
