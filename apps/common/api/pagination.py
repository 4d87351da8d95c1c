from rest_framework import pagination


class PageNumberPagination(pagination.PageNumberPagination):
    """Native API pagination: `?page=N&page_size=M`, with an explicit ceiling on page_size."""

    page_size_query_param = "page_size"
    max_page_size = 500
