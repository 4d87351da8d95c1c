"""The stats actions of the CKAN action API. Their docstrings are what `help_show` returns."""

from apps.stats.query import group_count_query_parse
from apps.stats.selectors import group_count


def get_group_count(request, data_dict: dict) -> dict:
    """Count groups by any combination of group table columns, over a date window. Sysadmins only.

    :param query: a list of ``{"query_group": [<condition>, ...]}``. Conditions inside one query_group are OR'ed;
        the query_groups are AND'ed. A condition is ``{<column>: <value>}`` with an optional ``"operator"`` after
        the column: ``=`` (default), ``!`` (not equal), ``<``, ``>``, ``<=``, ``>=``, ``like`` (SQL wildcards).
        Columns: name, id, title, description, created, state, revision_id, type, approval_status, image_url,
        owner_id, landing_page, group_reviewed, open_access, netl_only, last_modified, project_number.
    :type query: list of dictionaries
    :param start_date: first day of the window, ``YYYY-MM-DD``, not after today
    :type start_date: string
    :param end_date: last day of the window (included), ``YYYY-MM-DD``, not after today nor before start_date
    :type end_date: string
    :param date_field: the column the window applies to: ``created`` or ``last_modified``
    :type date_field: string

    :returns: ``{"count": <number of groups>}``
    :rtype: dictionary
    """
    return {"count": group_count(query=group_count_query_parse(data=data_dict))}
