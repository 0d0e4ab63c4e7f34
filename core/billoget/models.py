"""Billoget API resources in the SDK's shape (``billoget/billoget-sdk`` 1.2.0, commit 6cc189f,
``src/types/index.ts``); unknown fields are kept (``extra="allow"``).

Field names are snake_case with the wire's camelCase as alias (the SDK's own snake_case UBS
fields, ``ubs_id``..., keep theirs); both are accepted on input. :meth:`ApiModel.wire` gives the
resource back exactly as the API sent it: the fields it had (an absent optional field stays
absent, never ``null``), dates as ISO 8601 UTC with milliseconds, extras included.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import IntEnum, StrEnum
from typing import Annotated, Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, model_validator
from pydantic.alias_generators import to_camel

T = TypeVar("T", bound=BaseModel)


def _wire_time(moment: datetime) -> str:
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


ApiTime = Annotated[datetime, PlainSerializer(_wire_time, return_type=str, when_used="json")]


class BudgetState(IntEnum):
    """The SDK's ``BudgetState``."""

    GENERATED = 0
    APPROVED = 1
    REJECTED = 2


class ProductType(StrEnum):
    """The SDK's ``ProductType``."""

    PRODUCT = "product"
    SERVICE = "service"


class ApiModel(BaseModel):
    model_config = ConfigDict(extra="allow", validate_by_name=True, alias_generator=to_camel)

    def wire(self) -> dict[str, Any]:
        """The resource as the API sent it (JSON-ready, camelCase, only the fields it had)."""
        return self.model_dump(mode="json", by_alias=True, exclude_unset=True)


class Customer(ApiModel):
    id: int
    first_name: str
    last_name: str
    email: str | None = None
    phone_number: str | None = None
    dni: int | None = None
    cuit: str | None = None
    business_id: int
    created_at: ApiTime | None = None
    updated_at: ApiTime | None = None


class ProductVariant(ApiModel):
    id: int
    name: str
    description: str | None = None
    price: float
    stock: float
    sku: str | None = None
    barcode: str | None = None
    image_url: str | None = None
    attributes: dict[str, Any] | None = None
    is_active: bool
    sort_order: int
    product_id: int
    created_at: ApiTime
    updated_at: ApiTime


class Product(ApiModel):
    id: int
    product_code: str
    description: str
    category: str
    price: float
    stock: float
    net_content: float | None = None
    net_content_unit: str | None = None
    is_active: bool
    sku: str | None = None
    barcode: str | None = None
    image_url: str | None = None
    type: str = Field(description="product or service (see ProductType)")
    business_id: int | None = None
    variants: list[ProductVariant] | None = None
    created_at: ApiTime
    updated_at: ApiTime

    @property
    def product_type(self) -> ProductType | None:
        """The type as :class:`ProductType` (any case); None for a type this client lacks."""
        try:
            return ProductType(self.type.lower())
        except ValueError:
            return None


class BudgetItem(ApiModel):
    id: int
    product_id: int | None = None
    package_id: int | None = None
    quantity: float
    unit_price: float
    subtotal: float
    budget_id: int
    product: Product | None = None
    package: Any = None


class Budget(ApiModel):
    id: int
    currency: str
    issue_date: ApiTime
    expiration_date: ApiTime
    customer_id: int
    seller_id: int
    business_id: int | None = None
    minimum_payment_to_confirm: float
    state: int = Field(description="0 generated, 1 approved, 2 rejected (see BudgetState)")
    subtotal: float
    total: float
    iva: float
    preference_id: str | None = None
    payment_url: str | None = None
    payment_data: Any = None
    public_token: str | None = None
    comments: str | None = None
    ubs_id: str | None = Field(default=None, alias="ubs_id")
    ubs_version: str | None = Field(default=None, alias="ubs_version")
    sign_track_id: str | None = Field(default=None, alias="sign_track_id")
    business_budget_id: int | None = Field(default=None, alias="business_budget_id")
    is_archived: bool | None = None
    customer: Customer | None = None
    seller: Any = None
    business: Any = None
    items: list[BudgetItem] | None = None
    created_at: ApiTime | None = None
    updated_at: ApiTime | None = None

    @property
    def budget_state(self) -> BudgetState | None:
        """The state as :class:`BudgetState`; None for a state this client does not know."""
        try:
            return BudgetState(self.state)
        except ValueError:
            return None


class PublicBudgetCreated(ApiModel):
    """The answer of ``POST /api/budgets/public`` (the SDK's ``budgets.createPublic``)."""

    success: bool
    message: str
    public_url: str
    budget_id: int
    public_token: str


class Pagination(ApiModel):
    page: int
    limit: int
    total: int | None = None
    has_more: bool

    @model_validator(mode="before")
    @classmethod
    def _derive_has_more(cls, data: Any) -> Any:
        """Tolerate a missing ``hasMore`` when ``total`` says it."""
        if isinstance(data, dict) and "hasMore" not in data and "has_more" not in data:
            try:
                data = {**data, "hasMore": int(data["page"]) * int(data["limit"]) < data["total"]}
            except (KeyError, TypeError, ValueError):
                data = {**data, "hasMore": False}
        return data


def _from_sdk_shape(body: dict[str, Any]) -> dict[str, Any]:
    """The SDK's ``{data: {data: [...], meta: {...}}}`` as the docs' ``{data, pagination}``."""
    inner = body["data"]
    meta = inner.get("meta")
    if not isinstance(meta, dict):
        return {"data": inner.get("data"), "pagination": {"page": 1, "limit": 0, "hasMore": False}}
    try:
        page, pages = int(meta["currentPage"]), int(meta["totalPages"])
        pagination = {
            "page": page,
            "limit": int(meta["itemsPerPage"]),
            "total": int(meta["totalItems"]),
            "hasMore": page < pages,
        }
    except (KeyError, TypeError, ValueError):
        pagination = {"page": 1, "limit": 0, "hasMore": False}
    return {"data": inner.get("data"), "pagination": pagination}


class Page(BaseModel, Generic[T]):
    """One page of a list. Reads both shapes Billoget may send: the docs'
    ``{"data": [...], "pagination": {page, limit, total, hasMore}}`` and the SDK's
    ``{"data": {"data": [...], "meta": {totalItems, itemCount, itemsPerPage, totalPages,
    currentPage}}}``."""

    data: list[T]
    pagination: Pagination

    @model_validator(mode="before")
    @classmethod
    def _either_shape(cls, body: Any) -> Any:
        if isinstance(body, dict) and isinstance(body.get("data"), dict):
            return _from_sdk_shape(body)
        return body

    @property
    def items(self) -> list[T]:
        return self.data

    @property
    def has_more(self) -> bool:
        return self.pagination.has_more


class WebhookTestResult(ApiModel):
    """The answer of ``POST /api/public/webhooks/test``."""

    message: str
    timestamp: str
    api_key: str | None = Field(default=None, repr=False)


Entity = Budget | Customer | Product
