"""The Billoget API client: import everything from here.

The pieces live in small modules: :mod:`core.api_key` (the key and the URL check),
:mod:`core.api_errors` (typed errors, :class:`RateLimitInfo`), :mod:`core.api_models` (resources),
:mod:`core.api_responses` (reading answers, sans I/O), :mod:`core.api_transport` (aiohttp) and
:mod:`core.api_client` (the typed calls).
"""

from __future__ import annotations

from core.api_client import MAX_PAGE_SIZE, BillogetClient, Family
from core.api_errors import (
    ApiConnectionError,
    ApiError,
    ApiForbiddenError,
    ApiNotFoundError,
    ApiResponseError,
    ApiServerError,
    ApiTimeoutError,
    ApiValidationError,
    IpNotWhitelistedError,
    KeySuspendedError,
    RateLimitedError,
    RateLimitInfo,
    ScopeError,
    UnauthorizedError,
)
from core.api_key import PRODUCTION_HOST, ApiKey, check_api_config, is_loopback, parse_api_url
from core.api_models import (
    Budget,
    BudgetState,
    Customer,
    Entity,
    Page,
    Pagination,
    Product,
    ProductVariant,
    WebhookTestResult,
)
from core.api_responses import parse_rate_limit
from core.api_transport import DEFAULT_TIMEOUT_S, DEFAULT_USER_AGENT

__all__ = [
    "DEFAULT_TIMEOUT_S",
    "DEFAULT_USER_AGENT",
    "MAX_PAGE_SIZE",
    "PRODUCTION_HOST",
    "ApiConnectionError",
    "ApiError",
    "ApiForbiddenError",
    "ApiKey",
    "ApiNotFoundError",
    "ApiResponseError",
    "ApiServerError",
    "ApiTimeoutError",
    "ApiValidationError",
    "BillogetClient",
    "Budget",
    "BudgetState",
    "Customer",
    "Entity",
    "Family",
    "IpNotWhitelistedError",
    "KeySuspendedError",
    "Page",
    "Pagination",
    "Product",
    "ProductVariant",
    "RateLimitInfo",
    "RateLimitedError",
    "ScopeError",
    "UnauthorizedError",
    "WebhookTestResult",
    "check_api_config",
    "is_loopback",
    "parse_api_url",
    "parse_rate_limit",
]
