"""
The API's filter backend, in a module of its own: DRF imports it from the settings while its
own views module loads, so it must not import the API's views (tracker.api).
"""

from django_filters.rest_framework import DjangoFilterBackend


class FilterBackend(DjangoFilterBackend):
    """
    django-filter's backend, skipped when the request names none of the view's filters:
    an unfiltered list (most requests) then costs no filter form, which django-filter builds
    anew, with a deep copy of every filter, for each request. No filter here does anything
    when its parameter is absent.
    """

    def filter_queryset(self, request, queryset, view):
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is None or not filterset_class.base_filters.keys() & set(
            request.query_params
        ):
            return queryset
        return super().filter_queryset(request, queryset, view)
