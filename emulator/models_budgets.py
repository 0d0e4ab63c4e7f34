"""Budget, approval and approval-config bodies: the SDK's DTOs (``src/types/index.ts``)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field, model_validator

from emulator.models import Dto


class CreateBudgetItemDto(Dto):
    productId: int | None = None
    packageId: int | None = None
    quantity: float = Field(gt=0)
    unitPrice: float = Field(ge=0)


class CreateBudgetDto(Dto):
    """``CreateBudgetRequest`` (``POST /api/budgets/public``); the totals are the client's."""

    currency: str = Field(min_length=3, max_length=3)
    issueDate: datetime
    expirationDate: datetime
    customerId: int
    sellerId: int
    businessId: int | None = None
    minimumPaymentToConfirm: float = Field(ge=0)
    subtotal: float = Field(ge=0)
    total: float = Field(ge=0)
    iva: float = Field(ge=0)
    comments: str | None = None
    items: list[CreateBudgetItemDto] = Field(min_length=1)

    @model_validator(mode="after")
    def _dates_in_order(self) -> CreateBudgetDto:
        if self.expirationDate < self.issueDate:
            raise ValueError("expirationDate must not be before issueDate")
        return self


class CreateApprovalConfigDto(Dto):
    requiresBudgetApproval: bool
    ownerCanApprove: bool
    adminCanApprove: bool
    approvalThreshold: float | None = Field(default=None, ge=0)
    isActive: bool = True


class SubmitApprovalDto(Dto):
    budgetId: int
    requestNotes: str | None = None


class ProcessApprovalDto(Dto):
    action: Literal["approve", "reject"]
    comments: str | None = None


class AssignApproverDto(Dto):
    userId: int = Field(ge=1)
    notes: str | None = None
