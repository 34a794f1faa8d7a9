"""The FHIR R4 read API (/fhir/R4/): read by id, search by type, and the CapabilityStatement.

Thin: parse the search (apps/fhir/search.py), take the rows the caller may read
(apps/fhir/rules.py, through the owning apps' querysets and core's access layer), page, audit,
render (apps/fhir/resources/). Every answer is application/fhir+json; every error an
OperationOutcome (apps/fhir/outcome.py). A search costs the same number of queries whatever
`_count`: one COUNT, one page query (related rows joined in it), one access-log entry."""
import orjson
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.csrf import csrf_exempt
from rest_framework.exceptions import NotAcceptable
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.permissions import AllowAny, BasePermission
from rest_framework.renderers import BaseRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.audit.services import record, record_list, record_lists
from apps.core.exceptions import NotFound
from apps.fhir import capability, registry, rules
from apps.fhir.outcome import fhir_exception_handler, outcome_response
from apps.fhir.search import parse

MEDIA_TYPE = "application/fhir+json"
_JSON_TYPES = {"*/*", "application/*", "application/json", MEDIA_TYPE, "application/json+fhir", "json"}


class FhirJSONRenderer(BaseRenderer):
    media_type = MEDIA_TYPE
    format = "json"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return b"" if data is None else orjson.dumps(data)


def _wants_json(text):
    """Whether an Accept header or a _format value lets us answer JSON (no header: yes)."""
    if not text.strip():
        return True
    return any(part.split(";")[0].strip().lower() in _JSON_TYPES for part in text.split(","))


class FhirNegotiation(BaseContentNegotiation):
    """JSON only: `_format` (FHIR's override) or else the Accept header must allow it (406)."""

    def select_parser(self, request, parsers):
        return None

    def select_renderer(self, request, renderers, format_suffix=None):
        wanted = request.query_params.get("_format")
        if not _wants_json(wanted if wanted is not None else request.META.get("HTTP_ACCEPT", "")):
            raise NotAcceptable("This server answers JSON only (application/fhir+json).")
        return renderers[0], renderers[0].media_type


class FhirAccess(BasePermission):
    """Signed in (else 401: DRF answers NotAuthenticated when no authenticator succeeded), and
    allowed to use FHIR at all (apps/fhir/rules.py; 403)."""

    def has_permission(self, request, view):
        user = request.user
        return bool(user and user.is_authenticated) and rules.may_use_fhir(user)


class FhirView(APIView):
    renderer_classes = [FhirJSONRenderer]
    content_negotiation_class = FhirNegotiation
    permission_classes = [FhirAccess]
    http_method_names = ["get", "head"]  # read-only: anything else is a 405 OperationOutcome
    schema = None  # not in the OpenAPI schema: the CapabilityStatement describes this API
    resource_type = None

    def get_exception_handler(self):
        return fhir_exception_handler


def base_url(request):
    """The absolute service base URL, ending in a slash (…/fhir/R4/)."""
    return request.build_absolute_uri(reverse("fhir-metadata")[: -len("metadata")])


def _view_name(resource_type, interaction):
    return f"fhir_{resource_type.name.lower()}_{interaction}"


class SearchView(FhirView):
    def get(self, request):
        resource_type = self.resource_type
        search = parse(request.query_params, resource_type.params)
        if resource_type.parts:
            total, page = _search_sources(request.user, resource_type, search)
            # one entry per model on the page, in one INSERT whatever the mix
            record_lists("read", _by_model(page), detail={"view": _view_name(resource_type, "search")})
            return Response(_bundle(request, resource_type, search, total, page))
        rows = rules.visible(request.user, resource_type)
        if resource_type.search_rows is not None:
            rows = resource_type.search_rows(search.condition)
        else:
            rows = rows.filter(search.condition).order_by(*resource_type.order)
        total = rows.count()
        page = []
        if search.count and search.offset < total:
            page = list(rows[search.offset : search.offset + search.count])
            if resource_type.load is not None:
                page = resource_type.load(page)
        if resource_type.audited:
            record_list("read", page, detail={"view": _view_name(resource_type, "search")})
        return Response(_bundle(request, resource_type, search, total, page))


def _search_sources(actor, resource_type, search):
    """(total, page) of a type with several sources: one COUNT per source, the page's keys as
    one UNION in the type's order, then one query per source for the page's rows."""
    sources = [rows.filter(search.condition) for rows in rules.visible_sources(actor, resource_type)]
    total = sum(rows.count() for rows in sources)
    if not search.count or search.offset >= total:
        return total, []
    columns = [name.lstrip("-") for name in resource_type.order]
    keyed = [rows.order_by().values_list(*columns) for rows in sources]
    union = keyed[0].union(*keyed[1:], all=True).order_by(*resource_type.order)
    keys = [row[columns.index("id")] for row in union[search.offset : search.offset + search.count]]
    found = {}
    for rows in sources:
        found.update({obj.pk: obj for obj in rows.filter(pk__in=keys)})
    return total, [found[key] for key in keys if key in found]


def _by_model(objects):
    groups = {}
    for obj in objects:
        groups.setdefault(type(obj), []).append(obj)
    return list(groups.values())


def _bundle(request, resource_type, search, total, page):
    base = base_url(request)
    here = base + resource_type.name
    extra = [("_format", request.query_params["_format"])] if "_format" in request.query_params else []

    def link(relation, offset):
        query = urlencode([*search.pairs, *extra, ("_count", search.count), ("_offset", offset)])
        return {"relation": relation, "url": f"{here}?{query}"}

    links = [link("self", search.offset)]
    if search.count and search.offset + search.count < total:
        links.append(link("next", search.offset + search.count))
    if search.count and search.offset > 0:
        links.append(link("previous", max(0, min(search.offset, total) - search.count)))
    bundle = {"resourceType": "Bundle", "type": "searchset", "total": total, "link": links}
    if page:  # FHIR allows no empty lists: an empty page has no `entry` at all
        bundle["entry"] = [
            {"fullUrl": f"{here}/{obj.pk}", "resource": resource_type.render(obj), "search": {"mode": "match"}}
            for obj in page
        ]
    return bundle


class ReadView(FhirView):
    def get(self, request, resource_id):
        resource_type = self.resource_type
        value = resource_type.parse_id(resource_id)
        if value is None:
            raise NotFound(f"No {resource_type.name} has the id “{resource_id[:64]}”.")
        if resource_type.search_rows is not None:
            rules.visible(request.user, resource_type)  # refuses staff without the type's permission
            found = resource_type.load(list(resource_type.search_rows(resource_type.condition_for_id(value))[:1]))
            obj = found[0] if found else None
        else:
            obj = None
            for rows in rules.visible_sources(request.user, resource_type):
                obj = rows.filter(resource_type.condition_for_id(value)).first()
                if obj is not None:
                    break
        if obj is None:
            raise NotFound(f"No {resource_type.name} has the id “{resource_id[:64]}”.")
        if resource_type.audited:
            record("read", obj, detail={"view": _view_name(resource_type, "read")})
        return Response(resource_type.render(obj))


class MetadataView(FhirView):
    """The CapabilityStatement: public, as FHIR clients read it before they authenticate."""

    permission_classes = [AllowAny]

    def get(self, request):
        return Response(capability.capability_statement(base_url(request)))


@csrf_exempt
def unknown(request, version=None, rest=""):
    """Anything else under /fhir/: a 404 OperationOutcome (not the site's HTML page)."""
    if request.method not in ("GET", "HEAD"):
        return outcome_response(405, "not-supported", "This server only reads (GET).")
    kind = rest.split("/", 1)[0] if version else ""
    if kind and kind not in registry.resource_types():
        return outcome_response(404, "not-supported", f"This server does not serve the resource type “{kind[:64]}”.")
    return outcome_response(404, "not-found", "No such resource or interaction on this server (see /fhir/R4/metadata).")
