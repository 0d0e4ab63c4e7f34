"""Request bodies the API accepts: the SDK's Create/Update DTOs (``src/types/index.ts`` of
``billoget/billoget-sdk`` at 6cc189f), validated as the SDK types them.

Bodies are parsed from JSON in strict mode: a string is no number, ``"true"`` is no boolean, an
ISO 8601 string is a ``Date``; unknown fields and ``null`` for a typed field are refused too.
Every failure is a 422 naming the field.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from emulator import errors

EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


ProductType = Literal["product", "service"]  # the SDK's ProductType enum values
PRODUCT_TYPES: tuple[str, ...] = get_args(ProductType)


def product_type(value: object) -> object:
    """A product type in any case (``"SERVICE"``, ``"Service"``) as the SDK's enum value."""
    return value.lower() if isinstance(value, str) else value


class Dto(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, str_strip_whitespace=True)

    @model_validator(mode="after")
    def _no_nulls(self) -> Dto:
        # an after-validator: a before-validator would drop pydantic's JSON mode (ISO strings
        # as dates); a non-ValueError leaves pydantic as it is, a 422 naming the field
        for name in sorted(self.model_fields_set):
            if getattr(self, name) is None:
                raise errors.field_error(name, "must not be null (leave the field out instead)")
        return self

    def fields(self) -> dict[str, Any]:
        """The fields the client gave (or that have a default), JSON-ready."""
        return self.model_dump(mode="json", exclude_none=True)

    def changes(self) -> dict[str, Any]:
        """Only the fields the client gave, JSON-ready (for updates)."""
        return self.model_dump(mode="json", exclude_unset=True, exclude_none=True)


def utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# -- customers ---------------------------------------------------------------------------------


class CreateCustomerDto(Dto):
    firstName: str = Field(min_length=1, max_length=100)
    lastName: str = Field(min_length=1, max_length=100)
    email: str | None = Field(default=None, pattern=EMAIL_PATTERN)
    phoneNumber: str | None = None
    dni: int | None = Field(default=None, ge=0)
    cuit: str | None = None
    businessId: int | None = None  # assigned automatically; if given, it must be the key's


class UpdateCustomerDto(Dto):
    firstName: str | None = Field(default=None, min_length=1, max_length=100)
    lastName: str | None = Field(default=None, min_length=1, max_length=100)
    email: str | None = Field(default=None, pattern=EMAIL_PATTERN)
    phoneNumber: str | None = None
    dni: int | None = Field(default=None, ge=0)
    cuit: str | None = None


# -- products and variants ---------------------------------------------------------------------


class _ProductFields(Dto):
    @field_validator("type", mode="before", check_fields=False)
    @classmethod
    def _any_case(cls, value: object) -> object:
        return product_type(value)


class CreateProductDto(_ProductFields):
    productCode: str = Field(min_length=1, max_length=64)
    description: str = Field(min_length=1)
    category: str = Field(min_length=1)
    price: float = Field(ge=0)
    stock: int = Field(default=0, ge=0)
    netContent: float | None = Field(default=None, ge=0)
    netContentUnit: str | None = None
    isActive: bool = True
    sku: str | None = None
    barcode: str | None = None
    imageUrl: str | None = None
    type: ProductType = "product"
    businessId: int | None = None


class UpdateProductDto(_ProductFields):
    productCode: str | None = Field(default=None, min_length=1, max_length=64)
    description: str | None = Field(default=None, min_length=1)
    category: str | None = Field(default=None, min_length=1)
    price: float | None = Field(default=None, ge=0)
    stock: int | None = Field(default=None, ge=0)
    netContent: float | None = Field(default=None, ge=0)
    netContentUnit: str | None = None
    isActive: bool | None = None
    sku: str | None = None
    barcode: str | None = None
    imageUrl: str | None = None
    type: ProductType | None = None


class VariantFields(Dto):
    """``Omit<CreateProductVariantDto, "productId">``: a variant inside ``with-variants``."""

    name: str = Field(min_length=1, max_length=200)
    description: str | None = None
    price: float = Field(ge=0)
    stock: int = Field(default=0, ge=0)
    sku: str | None = None
    barcode: str | None = None
    imageUrl: str | None = None
    attributes: dict[str, Any] | None = None
    isActive: bool = True
    sortOrder: int = 0


class CreateProductVariantDto(VariantFields):
    productId: int


class CreateProductWithVariantsDto(CreateProductDto):
    variants: list[VariantFields] = Field(default_factory=list)


class UpdateProductVariantDto(Dto):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = None
    price: float | None = Field(default=None, ge=0)
    stock: int | None = Field(default=None, ge=0)
    sku: str | None = None
    barcode: str | None = None
    imageUrl: str | None = None
    attributes: dict[str, Any] | None = None
    isActive: bool | None = None
    sortOrder: int | None = None
    productId: int | None = None


# -- the webhook test endpoint -----------------------------------------------------------------


class WebhookTestIn(BaseModel):
    """``WebhookTestRequest``; lenient like the docs' endpoint (any JSON object as data)."""

    model_config = ConfigDict(extra="ignore")

    event: str = Field(default="webhook.test", min_length=1, max_length=100)
    data: dict[str, object] = Field(default_factory=dict)
