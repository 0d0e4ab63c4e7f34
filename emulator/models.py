"""Request bodies the API accepts, validated with pydantic (a failure is a 422)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


class _In(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


class CustomerIn(_In):
    firstName: str = Field(min_length=1, max_length=100)
    lastName: str = Field(min_length=1, max_length=100)
    email: str | None = Field(default=None, pattern=EMAIL_PATTERN)
    phone: str | None = None
    company: str | None = None
    address: str | None = None
    notes: str | None = None


class CustomerPatch(_In):
    firstName: str | None = Field(default=None, min_length=1, max_length=100)
    lastName: str | None = Field(default=None, min_length=1, max_length=100)
    email: str | None = Field(default=None, pattern=EMAIL_PATTERN)
    phone: str | None = None
    company: str | None = None
    address: str | None = None
    notes: str | None = None


class ProductIn(_In):
    productCode: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    description: str | None = None
    price: float = Field(ge=0)
    type: Literal["PRODUCT", "SERVICE"] = "PRODUCT"
    unit: str | None = None
    stock: int | None = None
    active: bool = True


class ProductPatch(_In):
    productCode: str | None = Field(default=None, min_length=1, max_length=64)
    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = None
    price: float | None = Field(default=None, ge=0)
    type: Literal["PRODUCT", "SERVICE"] | None = None
    unit: str | None = None
    stock: int | None = None
    active: bool | None = None


class VariantIn(_In):
    name: str = Field(min_length=1, max_length=200)
    sku: str | None = None
    price: float = Field(ge=0)
    stock: int | None = None


class VariantPatch(_In):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    sku: str | None = None
    price: float | None = Field(default=None, ge=0)
    stock: int | None = None


class BudgetItemIn(_In):
    productId: int | None = None
    description: str = Field(min_length=1)
    quantity: float = Field(gt=0)
    unitPrice: float = Field(ge=0)


class BudgetIn(_In):
    """``POST /api/budgets/public``: an existing customer by id, or a new one inline."""

    customerId: int | None = None
    customer: CustomerIn | None = None
    title: str | None = None
    description: str | None = None
    items: list[BudgetItemIn] = Field(min_length=1)
    currency: str = "USD"
    taxRate: float = Field(default=0.0, ge=0, le=1)
    validUntil: datetime | None = None

    @model_validator(mode="after")
    def _one_customer(self) -> BudgetIn:
        if (self.customerId is None) == (self.customer is None):
            raise ValueError("give exactly one of customerId or customer")
        return self


class BudgetPatch(_In):
    title: str | None = None
    description: str | None = None
    items: list[BudgetItemIn] | None = Field(default=None, min_length=1)
    taxRate: float | None = Field(default=None, ge=0, le=1)
    validUntil: datetime | None = None


class WebhookTestIn(_In):
    event: str = Field(default="webhook.test", min_length=1, max_length=100)
    data: dict[str, object] = Field(default_factory=dict)
