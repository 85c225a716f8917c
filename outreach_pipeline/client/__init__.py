"""The Outreach JSON:API client: paging, retries, page-size halving, the shared rate budget."""

from outreach_pipeline.client.documents import Document, MalformedDocument, parse_document
from outreach_pipeline.client.errors import ApiUnusable, FetchError, Interrupted
from outreach_pipeline.client.http import FetchedPage, JsonApiClient, PageLimits, with_param
from outreach_pipeline.client.ratebudget import RateBudget, read_rate_headers, shared_budget
from outreach_pipeline.client.urls import ApiBase, UnsafeUrl, normalised, shown

__all__ = [
    "ApiBase",
    "ApiUnusable",
    "Document",
    "FetchError",
    "FetchedPage",
    "Interrupted",
    "JsonApiClient",
    "MalformedDocument",
    "PageLimits",
    "RateBudget",
    "UnsafeUrl",
    "normalised",
    "parse_document",
    "read_rate_headers",
    "shared_budget",
    "shown",
    "with_param",
]
