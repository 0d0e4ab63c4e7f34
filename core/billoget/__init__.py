"""The Billoget API client: import everything from here.

The pieces live in small modules beside this one: ``key`` (the key and the URL check),
``errors`` (typed errors, :class:`RateLimitInfo`), ``models`` (resources), ``responses``
(reading answers, sans I/O), ``transport`` (aiohttp) and ``client`` (the typed calls).
"""

from __future__ import annotations

from core.billoget.client import MAX_PAGE_SIZE, BillogetClient, Family
from core.billoget.errors import (
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
from core.billoget.key import PRODUCTION_HOST, ApiKey, check_api_config, is_loopback, parse_api_url
from core.billoget.models import (
    Budget,
    BudgetItem,
    BudgetState,
    Customer,
    Entity,
    Page,
    Pagination,
    Product,
    ProductType,
    ProductVariant,
    PublicBudgetCreated,
    WebhookTestResult,
)
from core.billoget.responses import parse_rate_limit
from core.billoget.transport import DEFAULT_TIMEOUT_S, DEFAULT_USER_AGENT

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
    "BudgetItem",
    "BudgetState",
    "Customer",
    "Entity",
    "Family",
    "IpNotWhitelistedError",
    "KeySuspendedError",
    "Page",
    "Pagination",
    "Product",
    "ProductType",
    "ProductVariant",
    "PublicBudgetCreated",
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
