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
"""
from rest_framework import serializers
from rest_framework.fields import SkipField
from rest_framework.relations import PKOnlyObject

# Exact classes (not subclasses, which may read the context) whose to_representation depends on
# the value and settings only.
CONTEXT_FREE_FIELDS = frozenset({
    serializers.BooleanField, serializers.CharField, serializers.EmailField, serializers.RegexField,
    serializers.SlugField, serializers.URLField, serializers.UUIDField, serializers.IPAddressField,
    serializers.IntegerField, serializers.FloatField, serializers.DecimalField, serializers.DateTimeField,
    serializers.DateField, serializers.TimeField, serializers.DurationField, serializers.ChoiceField,
    serializers.MultipleChoiceField, serializers.JSONField, serializers.ReadOnlyField,
    serializers.PrimaryKeyRelatedField,
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

    def to_representation(self, instance):
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


__all__ = ["CONTEXT_FREE_FIELDS", "PlannedRepresentationMixin"]
