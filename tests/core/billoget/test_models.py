"""The API client's sans-I/O parts: the key, the URL check, headers, error bodies, models."""

from __future__ import annotations

from email.utils import formatdate

import pytest

from core.billoget import (
    ApiKey,
    Budget,
    BudgetState,
    Customer,
    Page,
    Product,
    ProductType,
    RateLimitInfo,
    WebhookTestResult,
    check_api_config,
    parse_rate_limit,
)
from core.billoget.responses import error_from_response, parse_retry_after
from core.errors import ConfigError

SECRET_BODY = "S3cr3tBody_0123456789abcdef"
TEST_KEY = f"bk_test_{SECRET_BODY}"
LIVE_KEY = f"bk_live_{SECRET_BODY}"
NOW = 1_700_000_000.0


# -- ApiKey ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "environment", "prefix"),
    [
        (TEST_KEY, "test", "bk_test_S3cr"),
        (LIVE_KEY, "live", "bk_live_S3cr"),
        ("bk_test_" + "a" * 16, "test", "bk_test_aaaa"),
        ("bk_live_" + "Z_9" * 21 + "Z", "live", "bk_live_Z_9Z"),
        (f"  {TEST_KEY}\n", "test", "bk_test_S3cr"),
    ],
)
def test_api_key_parse_accepts_well_formed_keys(text: str, environment: str, prefix: str) -> None:
    key = ApiKey.parse(text)
    assert key.environment == environment
    assert key.prefix == prefix
    assert key.reveal() == text.strip()


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "empty"),
        (f"sk_test_{SECRET_BODY}", "must start with"),
        (f"bk_prod_{SECRET_BODY}", "must start with"),
        (f"Bearer {TEST_KEY}", "must start with"),
        ("bk_test_tooShort123", "16 to 64"),
        ("bk_test_" + "a" * 65, "16 to 64"),
        (f"bk_test_{SECRET_BODY}-x", "letters, digits"),
        (f"bk_test_{SECRET_BODY} x", "letters, digits"),
    ],
)
def test_api_key_parse_rejects_bad_keys_without_showing_them(text: str, says: str) -> None:
    with pytest.raises(ConfigError) as caught:
        ApiKey.parse(text)
    assert says in caught.value.message
    assert SECRET_BODY not in str(caught.value)
    assert "tooShort" not in str(caught.value)


def test_api_key_repr_str_and_format_show_only_the_prefix() -> None:
    key = ApiKey.parse(TEST_KEY)
    for shown in (repr(key), str(key), f"{key}", f"{key!r}", repr([key]), repr({"k": key})):
        assert SECRET_BODY not in shown
        assert "bk_test_S3cr" in shown


def test_api_keys_compare_by_value() -> None:
    assert ApiKey.parse(TEST_KEY) == ApiKey.parse(TEST_KEY)
    assert ApiKey.parse(TEST_KEY) != ApiKey.parse(LIVE_KEY)
    assert len({ApiKey.parse(TEST_KEY), ApiKey.parse(TEST_KEY)}) == 1


# -- check_api_config --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "key", "warning"),
    [
        ("https://api.billoget.com/v1", LIVE_KEY, None),
        ("https://API.billoget.com./v1/", LIVE_KEY, None),
        ("http://127.0.0.1:8090/v1", TEST_KEY, None),
        ("http://127.5.6.7:8090/v1", TEST_KEY, None),
        ("http://localhost:8090/v1", TEST_KEY, None),
        ("http://[::1]:8090/v1", TEST_KEY, None),
        ("https://sandbox.billoget.com/v1", TEST_KEY, None),
        ("http://127.0.0.1:8090/v1", LIVE_KEY, "live key"),
        ("https://sandbox.billoget.com/v1", LIVE_KEY, "live key"),
        ("https://api.billoget.com/v1", TEST_KEY, "test key"),
    ],
)
def test_check_api_config_warns_only_on_a_key_and_url_mismatch(
    url: str, key: str, warning: str | None
) -> None:
    warnings = check_api_config(url, ApiKey.parse(key))
    if warning is None:
        assert warnings == []
    else:
        assert len(warnings) == 1
        assert warning in warnings[0]
        assert SECRET_BODY not in warnings[0]


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("http://api.billoget.com/v1", "plain http"),
        ("http://10.0.0.5:8090/v1", "plain http"),
        ("http://localhost.example.com/v1", "plain http"),
        ("http://128.0.0.1/v1", "plain http"),
        ("ftp://api.billoget.com/v1", "http(s) URL"),
        ("api.billoget.com/v1", "http(s) URL"),
        ("https:///v1", "http(s) URL"),
        ("https://api.billoget.com/v1?x=1", "query"),
        ("https://user:hunter2@api.billoget.com/v1", "credentials"),
    ],
)
def test_check_api_config_refuses_unsafe_or_malformed_urls(url: str, says: str) -> None:
    with pytest.raises(ConfigError) as caught:
        check_api_config(url, ApiKey.parse(TEST_KEY))
    assert says in caught.value.message
    assert "hunter2" not in caught.value.message


# -- headers -----------------------------------------------------------------------------------


def test_rate_limit_headers_are_parsed() -> None:
    headers = {
        "X-RateLimit-Limit": "1000",
        "X-RateLimit-Remaining": "998",
        "X-RateLimit-Reset": "1700003600",
        "X-RateLimit-Window": "3600",
    }
    assert parse_rate_limit(headers) == RateLimitInfo(
        limit=1000, remaining=998, reset_at=1_700_003_600.0, window_s=3600
    )


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-RateLimit-Limit": "1000", "X-RateLimit-Remaining": "5"},
        {"X-RateLimit-Limit": "lots", "X-RateLimit-Remaining": "5", "X-RateLimit-Reset": "1"},
        {"X-RateLimit-Limit": "nan", "X-RateLimit-Remaining": "5", "X-RateLimit-Reset": "1"},
    ],
)
def test_missing_or_malformed_rate_limit_headers_give_none(headers: dict[str, str]) -> None:
    assert parse_rate_limit(headers) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("30", 30.0),
        ("1.5", 1.5),
        ("-4", 0.0),
        (formatdate(NOW + 120, usegmt=True), 120.0),
        ("soon", None),
        ("", None),
        (None, None),
    ],
)
def test_retry_after_accepts_seconds_and_http_dates(
    value: str | None, expected: float | None
) -> None:
    assert parse_retry_after(value, now=NOW) == expected


def test_a_429_without_retry_after_waits_until_the_window_resets() -> None:
    info = RateLimitInfo(limit=10, remaining=0, reset_at=NOW + 42, window_s=60)
    error = error_from_response(429, b"{}", {}, method="GET", path="/x", rate_limit=info, now=NOW)
    assert error.retry_after_s == 42  # type: ignore[attr-defined]


def test_an_error_message_that_echoes_a_key_is_redacted() -> None:
    body = f'{{"error": "invalid_api_key", "message": "Key {TEST_KEY} is unknown"}}'.encode()
    error = error_from_response(401, body, {}, method="GET", path="/x", key=ApiKey.parse(TEST_KEY))
    assert SECRET_BODY not in str(error)
    assert "[redacted]" in error.message


# -- models ------------------------------------------------------------------------------------

STAMP = "2025-01-15T10:00:00.000Z"


BUDGET = {
    "id": 7,
    "currency": "USD",
    "issueDate": STAMP,
    "expirationDate": "2025-02-14T10:00:00.000Z",
    "customerId": 3,
    "sellerId": 1,
    "minimumPaymentToConfirm": 10,
    "state": 1,
    "subtotal": 100,
    "total": 121,
    "iva": 21,
    "ubs_id": "u-1",
    "items": [
        {"id": 1, "productId": 2, "quantity": 1, "unitPrice": 100, "subtotal": 100, "budgetId": 7}
    ],
    "createdAt": STAMP,
    "updatedAt": STAMP,
}


def test_budget_reads_the_sdk_fields_keeps_unknown_ones_and_dumps_the_wire_shape() -> None:
    wire = BUDGET | {"budgetNumber": "B-00007"}
    budget = Budget.model_validate(wire)
    assert (budget.customer_id, budget.iva, budget.ubs_id) == (3, 21.0, "u-1")
    assert budget.budget_state is BudgetState.APPROVED
    assert budget.items is not None and budget.items[0].unit_price == 100
    assert budget.model_extra == {"budgetNumber": "B-00007"}
    assert budget.wire() == wire  # the fields it had, dates as sent, nothing added


def test_budget_with_an_unknown_state_still_parses() -> None:
    assert Budget.model_validate(BUDGET | {"state": 9}).budget_state is None


def test_customer_and_product_read_camel_case_fields() -> None:
    customer = Customer.model_validate(
        {"id": 1, "firstName": "Ana", "lastName": "G", "businessId": 1, "company": "Acme"}
    )
    product = Product.model_validate(
        {
            "id": 2,
            "productCode": "P-1",
            "description": "Hosting",
            "category": "Services",
            "price": 1,
            "stock": 0,
            "isActive": True,
            "type": "SERVICE",
            "createdAt": STAMP,
            "updatedAt": STAMP,
        }
    )
    assert (customer.first_name, customer.model_extra) == ("Ana", {"company": "Acme"})
    assert (product.product_code, product.price, product.is_active) == ("P-1", 1.0, True)
    assert product.product_type is ProductType.SERVICE


def test_a_page_in_the_sdk_shape_reads_as_the_docs_page() -> None:
    body = {
        "data": {
            "data": [{"id": 1, "firstName": "A", "lastName": "B", "businessId": 1}],
            "meta": {
                "totalItems": 21,
                "itemCount": 1,
                "itemsPerPage": 10,
                "totalPages": 3,
                "currentPage": 2,
            },
        }
    }
    page = Page[Customer].model_validate(body)
    assert [c.id for c in page.items] == [1]
    assert (page.pagination.page, page.pagination.limit, page.pagination.total) == (2, 10, 21)
    assert page.has_more is True
    last = body | {"data": {**body["data"], "meta": {**body["data"]["meta"], "currentPage": 3}}}
    assert Page[Customer].model_validate(last).has_more is False


def test_pagination_without_has_more_is_derived_from_the_total() -> None:
    page = Page[Customer].model_validate(
        {"data": [], "pagination": {"page": 2, "limit": 10, "total": 25}}
    )
    assert page.has_more is True


def test_webhook_test_result_hides_the_api_key_from_its_repr() -> None:
    result = WebhookTestResult.model_validate(
        {"message": "sent", "timestamp": STAMP, "apiKey": TEST_KEY}
    )
    assert result.api_key == TEST_KEY
    assert SECRET_BODY not in repr(result)
