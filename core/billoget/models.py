"""Billoget API resources in the SDK's shape; unknown fields are kept (``extra="allow"``).

Field names are snake_case with the wire's camelCase as alias; both are accepted on input and
``model_dump(by_alias=True)`` gives the wire shape back (extras included).
"""

from __future__ import annotations

from datetime import datetime
from enum import IntEnum
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel

T = TypeVar("T", bound=BaseModel)


class BudgetState(IntEnum):
    PENDING = 0
    APPROVED = 1
    REJECTED = 2


class ApiModel(BaseModel):
    model_config = ConfigDict(extra="allow", validate_by_name=True, alias_generator=to_camel)


class Budget(ApiModel):
    id: int
    state: int = Field(description="0 pending, 1 approved, 2 rejected (see BudgetState)")
    customer_id: int | str | None
    total: float | None = None
    items: list[dict[str, Any]] | None = None
    created_at: datetime
    updated_at: datetime

    @property
    def budget_state(self) -> BudgetState | None:
        """The state as :class:`BudgetState`; None for a state this client does not know."""
        try:
            return BudgetState(self.state)
        except ValueError:
            return None


class Customer(ApiModel):
    id: int
    first_name: str
    last_name: str
    email: str | None = None
    created_at: datetime | None = None
    updated_at: datetime


class Product(ApiModel):
    id: int
    product_code: str
    name: str
    price: float
    type: str
    created_at: datetime | None = None
    updated_at: datetime


class ProductVariant(ApiModel):
    id: int
    product_id: int | None = None
    name: str | None = None
    price: float | None = None
    updated_at: datetime | None = None


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


class Page(BaseModel, Generic[T]):
    """One page of a list: ``{"data": [...], "pagination": {...}}``."""

    data: list[T]
    pagination: Pagination

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
