"""Budget approvals: the business's configuration, its approvers, and the approval workflow.

Submitting a generated budget opens a ``pending`` approval; processing it (``approve`` /
``reject``) decides the approval and the budget's ``state``, which emits ``budget.approved`` or
``budget.rejected``. Who may approve: an active approver, or the owner when the configuration
says ``ownerCanApprove`` (the emulator has no admin users besides the owner).
"""

from __future__ import annotations

from typing import Any

from emulator import errors
from emulator.budgets import APPROVED, GENERATED, REJECTED, Budgets
from emulator.models_budgets import (
    AssignApproverDto,
    CreateApprovalConfigDto,
    ProcessApprovalDto,
    SubmitApprovalDto,
)
from emulator.tables import BUSINESS_ID, OWNER_USER_ID, Entity

PENDING = "pending"
STATUSES = ("pending", "approved", "rejected", "cancelled")


class Approvals(Budgets):
    # -- configuration -------------------------------------------------------------------------

    def approval_config(self) -> Entity:
        rows = self.live("configs")
        if not rows:
            raise errors.not_found("Approval configuration")
        return rows[0]

    def save_approval_config(self, body: CreateApprovalConfigDto) -> tuple[Entity, bool]:
        """Create or update the one configuration; True if it was created."""
        rows = self.live("configs")
        if rows:
            return self.change("configs", rows[0]["id"], body.fields()), False
        return self.insert("configs", {"businessId": BUSINESS_ID, **body.fields()}), True

    # -- approvers -----------------------------------------------------------------------------

    def approvers(self) -> list[Entity]:
        return self.live("approvers")

    def assign_approver(self, body: AssignApproverDto) -> Entity:
        if any(a["userId"] == body.userId for a in self.approvers()):
            raise errors.conflict(f"User {body.userId} is already a budget approver")
        fields = {"businessId": BUSINESS_ID, "userId": body.userId, "isActive": True}
        fields |= {"assignedBy": OWNER_USER_ID} | body.fields()
        return self.insert("approvers", fields)

    def can_approve(self, user_id: int) -> bool:
        if any(a["userId"] == user_id and a["isActive"] for a in self.approvers()):
            return True
        rows = self.live("configs")
        owner_may = not rows or rows[0]["ownerCanApprove"] or not rows[0]["isActive"]
        return user_id == OWNER_USER_ID and bool(owner_may)

    # -- the workflow --------------------------------------------------------------------------

    def submit_approval(self, body: SubmitApprovalDto) -> Entity:
        if not self.exists("budgets", body.budgetId):
            raise errors.field_error("budgetId", f"budget {body.budgetId} does not exist")
        if self.get("budgets", body.budgetId)["state"] != GENERATED:
            raise errors.conflict(f"Budget {body.budgetId} is already decided")
        if any(a["budgetId"] == body.budgetId for a in self.approval_rows(status=PENDING)):
            raise errors.conflict(f"Budget {body.budgetId} already has a pending approval")
        fields: Entity = {"budgetId": body.budgetId, "requestedBy": OWNER_USER_ID}
        fields |= {"status": PENDING, "action": "submitted"} | body.fields()
        return self.insert("approvals", fields)

    def process_approval(
        self, approval_id: int, body: ProcessApprovalDto, *, user_id: int = OWNER_USER_ID
    ) -> Entity:
        approval = self.get("approvals", approval_id)
        if approval["status"] != PENDING:
            raise errors.conflict(f"Approval {approval_id} is already {approval['status']}")
        if not self.can_approve(user_id):
            raise errors.ApiError(403, "forbidden", f"User {user_id} may not approve budgets")
        decided = "approved" if body.action == "approve" else "rejected"
        now = self.stamp()
        fields: Entity = {"status": decided, "action": decided, "approvedBy": user_id}
        fields |= {"reviewedAt": now, f"{decided}At": now}
        if body.comments is not None:
            fields["comments"] = body.comments
        approval = self.change("approvals", approval_id, fields)
        state = APPROVED if decided == "approved" else REJECTED
        self.decide_budget(approval["budgetId"], state)
        return approval

    def decide_by_token(self, token: str, state: int) -> Entity:
        """The customer's own decision (UBS) cancels any approval still pending for it."""
        budget = super().decide_by_token(token, state)
        for approval in self.approval_rows(status=PENDING, budget_id=budget["id"]):
            self.change("approvals", approval["id"], {"status": "cancelled", "action": "cancelled"})
        return budget

    # -- queries -------------------------------------------------------------------------------

    def approval_rows(
        self,
        *,
        status: str | None = None,
        budget_id: int | None = None,
        user_id: int | None = None,
    ) -> list[Entity]:
        rows = self.live("approvals")
        if status is not None:
            rows = [a for a in rows if a["status"] == status]
        if budget_id is not None:
            rows = [a for a in rows if a["budgetId"] == budget_id]
        if user_id is not None:
            rows = [a for a in rows if user_id in (a["requestedBy"], a.get("approvedBy"))]
        return rows

    def pending_for(self, user_id: int | None) -> list[Entity]:
        if user_id is not None and not self.can_approve(user_id):
            return []
        return self.approval_rows(status=PENDING)

    def approval_stats(self) -> dict[str, Any]:
        rows = self.live("approvals")
        counts: dict[str, Any] = {s: sum(a["status"] == s for a in rows) for s in STATUSES}
        return counts | {"total": len(rows)}
