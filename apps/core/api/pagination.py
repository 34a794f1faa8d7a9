"""The API's pagination: page numbers, `count`, `next`, `previous`, `results`.

RowsPagination answers rows (dicts of the view's `row_columns`) instead of model instances,
with the total in the page query: the lists that are read most (the patients list, the
free-slot search) skip building a model instance per row and one round trip."""
import re

from django.core.exceptions import EmptyResultSet
from django.core.paginator import EmptyPage, InvalidPage, Page, PageNotAnInteger
from django.db import DEFAULT_DB_ALIAS
from django.db.models import IntegerField, QuerySet
from django.db.models.expressions import RawSQL
from django.db.models.query import ModelIterable
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import PageNumberPagination


# Page numbers and sizes end up in LIMIT/OFFSET, a signed 64-bit integer in the database.
INT64_MAX = 2**63 - 1
_DIGITS = re.compile("[0-9]+")


class Pagination(PageNumberPagination):
    """`?page=` a page number (anything else, or a page past the last: 404 "Invalid page.", as
    DRF answers); `?page_size=` a whole number, capped at max_page_size: anything else (null,
    abc, 0, -1, 1.5, more digits than a 64-bit integer) is a 400 naming page_size, not ignored."""

    page_size = 25
    page_size_query_param = "page_size"
    max_page_size = 100

    def get_page_size(self, request):
        value = request.query_params.get(self.page_size_query_param, "")
        if value == "":
            return self.page_size
        if not _DIGITS.fullmatch(value) or len(value) > 19 or not 1 <= int(value) <= INT64_MAX:
            raise ValidationError({self.page_size_query_param: [f"A whole number of 1 or more is required (a page holds at most {self.max_page_size})."]})
        return min(int(value), self.max_page_size)

# A key of each row while the page is read, removed before rendering.
TOTAL = "_pagination_total_count"


class RowsPagination(Pagination):
    """Pagination answering dicts of the view's `row_columns` (values()) rather than model
    instances, and the total from the page query rather than a COUNT query before it: COUNT(*)
    of the same filter as an uncorrelated scalar subquery, which the database runs once per
    statement (one round trip and one compiled query fewer). The count is taken from the
    model queryset before values(): a values() of related columns keeps their joins even in
    `.values("pk")`, so counting the rows query would join users and locations for every
    matching slot. DISTINCT, slices, GROUP BY and `?page=last` (which needs the total before
    the offset) go through DRF's COUNT + page, still as rows."""

    def paginate_queryset(self, queryset, request, view=None):
        columns = getattr(view, "row_columns", None)
        if columns is None:
            return super().paginate_queryset(queryset, request, view)
        page_number = request.query_params.get(self.page_query_param) or 1
        if not _one_query_possible(queryset) or page_number in self.last_page_strings:
            return super().paginate_queryset(queryset.values(*columns), request, view)
        try:
            sql, params = queryset.order_by().values("pk").query.sql_with_params()
        except EmptyResultSet:  # an impossible filter: DRF's path sends no query at all
            return super().paginate_queryset(queryset.values(*columns), request, view)
        total = RawSQL(f"SELECT COUNT(*) FROM ({sql}) {TOTAL}_subquery", params, output_field=IntegerField())
        self.request = request
        page_size = self.get_page_size(request)
        if not page_size:
            return None
        paginator = self.django_paginator_class(queryset, page_size)
        try:
            number = _page_number(paginator, page_number, page_size)
            bottom = (number - 1) * page_size
            rows = list(queryset.values(*columns, **{TOTAL: total})[bottom : bottom + page_size])
            if not rows and number > 1:
                raise EmptyPage(paginator.error_messages["no_results"])
        except InvalidPage as exc:
            raise NotFound(self.invalid_page_message.format(page_number=page_number, message=str(exc)))
        paginator.__dict__["count"] = rows[0][TOTAL] if rows else 0  # Paginator.count is a cached_property
        for row in rows:
            del row[TOTAL]
        self.page = Page(rows, number, paginator)
        if paginator.num_pages > 1 and self.template is not None:
            self.display_page_controls = True
        return rows


def _one_query_possible(queryset):
    if not isinstance(queryset, QuerySet) or queryset._iterable_class is not ModelIterable or queryset.db != DEFAULT_DB_ALIAS:
        return False
    query = queryset.query
    return not (query.distinct or query.combinator or query.is_sliced or query.group_by is not None)


def _page_number(paginator, page_number, page_size):
    """Paginator.validate_number without its upper bound, which needs the total first; a page
    whose rows would start past the database's 64-bit OFFSET is empty."""
    try:
        if isinstance(page_number, float) and not page_number.is_integer():
            raise ValueError
        number = int(page_number)
    except (TypeError, ValueError):
        raise PageNotAnInteger(paginator.error_messages["invalid_page"])
    if number < 1:
        raise EmptyPage(paginator.error_messages["min_page"])
    if number > INT64_MAX // page_size:
        raise EmptyPage(paginator.error_messages["no_results"])
    return number
