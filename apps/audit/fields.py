"""PatientIdsField: the patients one access-log entry concerns when it covers a whole list
(one entry per list request instead of one row per patient shown).

On PostgreSQL the column is `uuid[]`, GIN-indexed (migration 0004), so "who viewed this patient"
is one indexed query: `patient_ids @> ARRAY[<id>]` (the `has` lookup) OR'd with the b-tree on
`patient_id` for single-object entries (AccessLogQuerySet.for_patient). SQLite, which has no
arrays, stores a JSON list of the ids as text and answers `has` with json_each.

Lookups: `has` (one patient id, exact), `icontains` (the admin's search: a fragment of an id,
with or without hyphens, as the admin's search on `patient_id` matches it) and `isnull`."""
import json
import uuid

from django.core import exceptions
from django.db import models
from django.db.models import Lookup


def _uuid(value):
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


class PatientIdsField(models.Field):
    description = "A list of patient ids"
    empty_strings_allowed = False

    def db_type(self, connection):
        return "uuid[]" if connection.vendor == "postgresql" else "text"

    def cast_db_type(self, connection):
        return self.db_type(connection)

    def to_python(self, value):
        if value is None:
            return None
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError as exc:
                raise exceptions.ValidationError("Not a list of patient ids.") from exc
        try:
            return [_uuid(v) for v in value]
        except (TypeError, ValueError, AttributeError) as exc:
            raise exceptions.ValidationError("Not a list of patient ids.") from exc

    def from_db_value(self, value, expression, connection):
        if value is None:
            return None
        if isinstance(value, str):  # SQLite: the JSON text
            return [uuid.UUID(v) for v in json.loads(value)]
        return list(value)  # psycopg returns uuid[] as a list of UUID

    def get_prep_value(self, value):
        return None if value is None else self.to_python(value)

    def get_db_prep_value(self, value, connection, prepared=False):
        if not prepared:
            value = self.get_prep_value(value)
        if value is None:
            return None
        if connection.vendor == "postgresql":
            return value  # psycopg adapts a list of UUID to uuid[]
        return json.dumps([str(v) for v in value])

    def value_to_string(self, obj):
        value = self.value_from_object(obj)
        return json.dumps(None if value is None else [str(v) for v in value])


@PatientIdsField.register_lookup
class Has(Lookup):
    """`patient_ids__has=<patient id>`: the entry lists that patient. On PostgreSQL the
    containment operator, which the GIN index serves."""

    lookup_name = "has"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        patient_id = _uuid(self.rhs)
        if connection.vendor == "postgresql":
            return f"{lhs} @> ARRAY[%s]::uuid[]", [*lhs_params, patient_id]
        return (f"EXISTS (SELECT 1 FROM json_each({lhs}) WHERE json_each.value = %s)",
                [*lhs_params, str(patient_id)])


@PatientIdsField.register_lookup
class IContains(Lookup):
    """`patient_ids__icontains=<text>`: some listed id contains the text (hyphens ignored on
    both sides, as the admin's search on `patient_id` matches ids). Not indexed: the admin's
    other search fields scan the log anyway."""

    lookup_name = "icontains"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        pattern = "%" + connection.ops.prep_for_like_query(str(self.rhs).replace("-", "")) + "%"
        if connection.vendor == "postgresql":
            return f"replace(array_to_string({lhs}, ' '), '-', '') ILIKE %s", [*lhs_params, pattern]
        return f"replace({lhs}, '-', '') LIKE %s ESCAPE '\\'", [*lhs_params, pattern]
