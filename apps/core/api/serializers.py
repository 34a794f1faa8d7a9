"""PlannedRepresentationMixin: DRF's output, for list serializers, without DRF's per-request cost.

For every serializer instance DRF's generic `to_representation` builds the fields (for a
ModelSerializer, by model introspection: about 0.1 ms per field and request) and walks each
field through `get_attribute`. Output serializers whose fields do not depend on the request
can do that work once per process: this mixin builds a *plan* from a prototype instance of the
class and applies the same fields' own `to_representation` to each object. A page of 25
patients (29 fields) takes ~0.9 ms of CPU instead of ~3 ms (bench/README.md).

Same output as DRF, field by field:
- a concrete, non-relation model field of `Meta.model`, read from an instance of that model,
  is read with a plain `getattr` (such values are never callables or mappings, the only cases
  where DRF's `get_attribute` does more);
- a `SerializerMethodField` calls the method on the serializer itself (so `self.context` is
  the real one);
- every other field (dotted sources, properties, methods, `source="*"`, related keys, a plain
  Serializer's fields) goes through the field's own `get_attribute`, with DRF's `SkipField`,
  `None` and primary-key-only handling.

The plan is only used when every readable field is of a type whose output cannot depend on the
request (the exact types in CONTEXT_FREE_FIELDS, ListField/DictField of those, and
SerializerMethodField). Any other field (a nested serializer, a hyperlink, a file URL, a custom
field class) makes the class use DRF's generic path, unchanged. So does a serializer whose
fields vary per instance (an overridden `get_fields` or `__init__`): do not use the mixin there.

Rows: a dict (a row of `values(*cls.row_columns())`, see RowsPagination in
apps/core/api/pagination.py) is read by key, the key being the field's source with "__" for "."
(`provider.user.full_name` -> `provider__user__full_name`), so a list can skip model instances.
Classes with a SerializerMethodField or a relation field cannot render rows (row_plan raises
TypeError). Field types whose output is a plain function of the value are applied directly
(`row_kind`); the tests compare row output with DRF's fields.
"""
import datetime
import functools

from django.conf import settings
from django.utils import timezone
from rest_framework import ISO_8601, serializers
from rest_framework.fields import SkipField
from rest_framework.relations import PKOnlyObject
from rest_framework.settings import api_settings

from apps.core import validation

# Exact classes (not subclasses, which may read the context) whose to_representation depends on
# the value and settings only.
CONTEXT_FREE_FIELDS = frozenset({
    serializers.BooleanField, serializers.CharField, serializers.EmailField, serializers.RegexField,
    serializers.SlugField, serializers.URLField, serializers.UUIDField, serializers.IPAddressField,
    serializers.IntegerField, serializers.FloatField, serializers.DecimalField, serializers.DateTimeField,
    serializers.DateField, serializers.TimeField, serializers.DurationField, serializers.ChoiceField,
    serializers.MultipleChoiceField, serializers.JSONField, serializers.ReadOnlyField,
    serializers.PrimaryKeyRelatedField,
    validation.ApiTimeOfDayField,  # TimeField's output; only its input differs
})

_ATTR, _METHOD, _FIELD = 0, 1, 2


def _context_free(field):
    if isinstance(field, serializers.SerializerMethodField):
        return True
    if type(field) in (serializers.ListField, serializers.DictField):
        return _context_free(field.child)
    return type(field) in CONTEXT_FREE_FIELDS


def _plain_attnames(model):
    """attnames of the model's concrete fields that hold plain values (not relations)."""
    if model is None:
        return frozenset()
    return frozenset(f.attname for f in model._meta.concrete_fields if not f.is_relation)


class PlannedRepresentationMixin:
    # Put it first among the bases of an output serializer:
    #     class FooOutput(PlannedRepresentationMixin, serializers.ModelSerializer): ...
    # No docstring on purpose: drf-spectacular would show it as the description of every
    # serializer that uses the mixin.

    _plan = None  # per class: (model or None, [(kind, name, ...), ...]), or False for "generic"

    @classmethod
    def representation_plan(cls):
        """The class's plan, built on first use; None when the class must use DRF's path."""
        plan = cls.__dict__.get("_plan")
        if plan is None:
            plan = cls._build_plan()
            cls._plan = plan
        return plan or None

    @classmethod
    def _build_plan(cls):
        meta = getattr(cls, "Meta", None)
        model = getattr(meta, "model", None) if issubclass(cls, serializers.ModelSerializer) else None
        plain = _plain_attnames(model)
        steps = []
        for name, field in cls().fields.items():
            if field.write_only:
                continue
            if not _context_free(field):
                return False
            if isinstance(field, serializers.SerializerMethodField):
                steps.append((_METHOD, name, field.method_name))
            elif len(field.source_attrs) == 1 and field.source_attrs[0] in plain:
                steps.append((_ATTR, name, field.source_attrs[0], field.to_representation))
            else:
                steps.append((_FIELD, name, field))
        return (model, steps)

    _row_plan = None

    @classmethod
    def row_plan(cls):
        """[(name, row key, kind, to_representation)], built once per class (see row_kind)."""
        plan = cls.__dict__.get("_row_plan")
        if plan is None:
            plan = cls._row_plan = build_row_plan(cls)
        return plan

    @classmethod
    def row_columns(cls):
        """The keys a row must hold: pass them to values() (annotate what is not a column)."""
        return [key for _, key, _, _ in cls.row_plan()]

    def to_representation(self, instance):
        if isinstance(instance, dict):
            return render_row(self, instance)
        plan = self.representation_plan()
        if plan is None:
            return super().to_representation(instance)
        model, steps = plan
        if model is not None and not isinstance(instance, model):
            return super().to_representation(instance)
        ret = {}
        for step in steps:
            kind, name = step[0], step[1]
            if kind == _ATTR:
                value = getattr(instance, step[2])
                ret[name] = None if value is None else step[3](value)
            elif kind == _METHOD:
                ret[name] = getattr(self, step[2])(instance)
            else:  # DRF's own per-field steps (Serializer.to_representation)
                field = step[2]
                try:
                    attribute = field.get_attribute(instance)
                except SkipField:
                    continue
                check_for_none = attribute.pk if isinstance(attribute, PKOnlyObject) else attribute
                ret[name] = None if check_for_none is None else field.to_representation(attribute)
        return ret


def build_row_plan(serializer_class):
    """[(name, row key, kind, to_representation)] for each readable field of the class. Rows
    hold values, so a field that needs an object (a method field, a relation) or may read the
    request is refused with TypeError."""
    plan = []
    for name, field in serializer_class().fields.items():
        if field.write_only:
            continue
        if isinstance(field, (serializers.SerializerMethodField, serializers.RelatedField)) or not _context_free(field):
            raise TypeError(f"{serializer_class.__name__}.{name}: rows need plain fields")
        plan.append((name, "__".join(field.source_attrs), row_kind(field), field.to_representation))
    return plan


def render_row(serializer, row):
    """`row` rendered by `serializer`'s row_plan; the converters are made once per serializer
    instance (a list's child renders every row of the page)."""
    converters = serializer.__dict__.get("_row_converters")
    if converters is None:
        converters = serializer._row_converters = row_converters(type(serializer).row_plan())
    ret = {}
    for name, key, convert in converters:
        value = row[key]
        ret[name] = None if value is None else convert(value)
    return ret


def row_kind(field):
    """How a field's value is rendered from a row: "str" where DRF's own to_representation is
    str() (CharField, UUIDField in its default format), "datetime" for a DateTimeField writing
    ISO 8601 in the current timezone, "field" (the field's own to_representation) otherwise."""
    kind = type(field)
    if kind is serializers.CharField or (kind is serializers.UUIDField and field.uuid_format == "hex_verbose"):
        return "str"
    if (kind is serializers.DateTimeField and not hasattr(field, "timezone")
            and str(getattr(field, "format", api_settings.DATETIME_FORMAT)).lower() == ISO_8601):
        return "datetime"
    return "field"


def row_converters(plan):
    """[(name, key, convert)] for a row plan, in the current timezone."""
    tz = timezone.get_current_timezone() if settings.USE_TZ else None
    converters = []
    for name, key, kind, to_representation in plan:
        if kind == "str":
            converters.append((name, key, str))
        elif kind == "datetime" and tz is not None:
            converters.append((name, key, functools.partial(_iso_datetime, tz=tz, fallback=to_representation)))
        else:
            converters.append((name, key, to_representation))
    return converters


def _iso_datetime(value, *, tz, fallback):
    """DRF's DateTimeField.to_representation with ISO 8601 output for an aware datetime: in
    the current timezone, "Z" for UTC. Anything else goes to the field itself."""
    if not isinstance(value, datetime.datetime) or value.tzinfo is None:
        return fallback(value)
    text = value.astimezone(tz).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


__all__ = ["CONTEXT_FREE_FIELDS", "PlannedRepresentationMixin", "build_row_plan", "render_row", "row_converters", "row_kind"]
