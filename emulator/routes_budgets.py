"""Budgets, budget approvals and the public budget (UBS) routes, under ``/v1`` and ``/``.

==========================================================  ===============
route                                                       scope
==========================================================  ===============
GET  /api/public/budgets[/{id}]                             READ_BUDGETS
POST /api/budgets/public (``createPublic``)                 WRITE_BUDGETS
GET  /api/public/budget-approvals[/config|/approvers|
     /pending|/history|/can-approve|/stats]                 READ_BUDGETS
POST /api/public/budget-approvals/config|approvers|submit,
     POST .../{id}/process, DELETE .../approvers/{id}       WRITE_BUDGETS
GET  /api/public/budgets/public/{id}|token/{t}|debug/token/{t}   no key
POST /api/public/budgets/token/{t}/confirm|reject           no key
==========================================================  ===============

The key-less routes look the budget up in the ``test`` environment, then in ``live``.
"""

from __future__ import annotations

from datetime import UTC, datetime

from aiohttp import web

from emulator import errors, listing
from emulator.approvals import STATUSES
from emulator.clock import iso
from emulator.keys import Scope
from emulator.models_budgets import (
    AssignApproverDto,
    CreateApprovalConfigDto,
    CreateBudgetDto,
    ProcessApprovalDto,
    SubmitApprovalDto,
)
from emulator.resources import APPROVED, REJECTED, Store
from emulator.routes_api import (
    ID,
    Handler,
    R,
    Route,
    body_of,
    data,
    no_content,
    page,
    path_id,
    store_for,
)
from emulator.state import EMULATOR, ENVIRONMENTS
from emulator.tables import OWNER_USER_ID, Entity
from emulator.views import public_budget

A = f"{R}/budget-approvals"
TOKEN = r"{token:[A-Za-z0-9_-]{1,100}}"  # noqa: S105 (a route pattern)

# -- budgets -----------------------------------------------------------------------------------


async def list_budgets(request: web.Request) -> web.Response:
    store = store_for(request, Scope.READ_BUDGETS)
    return page(request, "budgets", [store.render("budgets", b) for b in store.live("budgets")])


async def get_budget(request: web.Request) -> web.Response:
    store = store_for(request, Scope.READ_BUDGETS)
    return data(store.render("budgets", store.get("budgets", path_id(request))))


async def create_public_budget(request: web.Request) -> web.Response:
    store = store_for(request, Scope.WRITE_BUDGETS)
    budget = store.create_budget(await body_of(request, CreateBudgetDto))
    token = budget["publicToken"]
    answer = {
        "success": True,
        "message": "Budget created successfully",
        "publicUrl": f"{request.url.origin()}/v1{R}/budgets/token/{token}",
        "budgetId": budget["id"],
        "publicToken": token,
    }
    return data(answer, 201)


# -- approvals ---------------------------------------------------------------------------------


async def get_config(request: web.Request) -> web.Response:
    return data(store_for(request, Scope.READ_BUDGETS).approval_config())


async def save_config(request: web.Request) -> web.Response:
    store = store_for(request, Scope.WRITE_BUDGETS)
    config, created = store.save_approval_config(await body_of(request, CreateApprovalConfigDto))
    return data(config, 201 if created else 200)


async def list_approvers(request: web.Request) -> web.Response:
    return data(store_for(request, Scope.READ_BUDGETS).approvers())


async def assign_approver(request: web.Request) -> web.Response:
    store = store_for(request, Scope.WRITE_BUDGETS)
    return data(store.assign_approver(await body_of(request, AssignApproverDto)), 201)


async def remove_approver(request: web.Request) -> web.Response:
    store_for(request, Scope.WRITE_BUDGETS).delete("approvers", path_id(request))
    return no_content()


async def submit(request: web.Request) -> web.Response:
    store = store_for(request, Scope.WRITE_BUDGETS)
    return data(store.submit_approval(await body_of(request, SubmitApprovalDto)), 201)


async def process(request: web.Request) -> web.Response:
    store = store_for(request, Scope.WRITE_BUDGETS)
    body = await body_of(request, ProcessApprovalDto)
    return data(store.process_approval(path_id(request), body))


async def pending(request: web.Request) -> web.Response:
    store = store_for(request, Scope.READ_BUDGETS)
    return data(store.pending_for(listing.optional_int(request.query, "userId")))


async def history(request: web.Request) -> web.Response:
    store = store_for(request, Scope.READ_BUDGETS)
    budget_id = listing.optional_int(request.query, "budgetId")
    return data(store.approval_rows(budget_id=budget_id))


async def can_approve(request: web.Request) -> web.Response:
    store = store_for(request, Scope.READ_BUDGETS)
    user_id = listing.optional_int(request.query, "userId")
    allowed = store.can_approve(OWNER_USER_ID if user_id is None else user_id)
    return data({"canApprove": allowed})


async def stats(request: web.Request) -> web.Response:
    return data(store_for(request, Scope.READ_BUDGETS).approval_stats())


async def list_approvals(request: web.Request) -> web.Response:
    store = store_for(request, Scope.READ_BUDGETS)
    query = request.query
    status = query.get("status") or None
    if status is not None and status not in STATUSES:
        raise errors.field_error("status", f"must be one of {', '.join(STATUSES)}")
    rows = store.approval_rows(
        status=status,
        budget_id=listing.optional_int(query, "budgetId"),
        user_id=listing.optional_int(query, "userId"),
    )
    shape = request.app[EMULATOR].config.pagination
    return web.json_response(listing.paginate(rows, query, shape))


# -- the public budget (UBS): no key ----------------------------------------------------------


def _stores(request: web.Request) -> list[Store]:
    stores = request.app[EMULATOR].stores
    return [stores[env] for env in ENVIRONMENTS]


def _by_token(request: web.Request) -> tuple[Store, Entity]:
    token = request.match_info["token"]
    for store in _stores(request):
        try:
            return store, store.by_token(token)
        except errors.ApiError:
            continue
    raise errors.not_found("Budget")


def _public(store: Store, budget: Entity) -> Entity:
    return public_budget(store.render("budgets", budget))


async def public_by_id(request: web.Request) -> web.Response:
    for store in _stores(request):
        if store.exists("budgets", path_id(request)):
            return data(_public(store, store.get("budgets", path_id(request))))
    raise errors.not_found("Budget")


async def by_token(request: web.Request) -> web.Response:
    return data(_public(*_by_token(request)))


async def debug_token(request: web.Request) -> web.Response:
    token = request.match_info["token"]
    answer: Entity = {"token": token}
    try:
        store, budget = _by_token(request)
    except errors.ApiError:
        answer["error"] = "Budget not found for this token"
    else:
        answer["budget"] = {
            "id": budget["id"],
            "expired": store.expired(budget),
            "hasCustomer": store.exists("customers", budget["customerId"]),
            "hasSeller": True,
            "state": budget["state"],
            "publicToken": budget["publicToken"],
        }
    answer["debug"] = {"timestamp": iso(datetime.now(UTC)), "nodeEnv": "emulator"}
    return data(answer)


def _decide(state: int, message: str) -> Handler:
    async def handler(request: web.Request) -> web.Response:
        store, budget = _by_token(request)
        decided = store.decide_by_token(budget["publicToken"], state)
        return data({"message": message, "budget": _public(store, decided)})

    return handler


def budget_routes() -> list[Route]:
    return [
        ("GET", f"{R}/budgets", list_budgets),
        ("GET", f"{R}/budgets/{ID}", get_budget),
        ("POST", "/api/budgets/public", create_public_budget),
        ("GET", f"{A}/config", get_config),
        ("POST", f"{A}/config", save_config),
        ("GET", f"{A}/approvers", list_approvers),
        ("POST", f"{A}/approvers", assign_approver),
        ("DELETE", f"{A}/approvers/{ID}", remove_approver),
        ("POST", f"{A}/submit", submit),
        ("POST", f"{A}/{ID}/process", process),
        ("GET", f"{A}/pending", pending),
        ("GET", f"{A}/history", history),
        ("GET", f"{A}/can-approve", can_approve),
        ("GET", f"{A}/stats", stats),
        ("GET", A, list_approvals),
        ("GET", f"{R}/budgets/public/{ID}", public_by_id),
        ("GET", f"{R}/budgets/token/{TOKEN}", by_token),
        ("GET", f"{R}/budgets/debug/token/{TOKEN}", debug_token),
        ("POST", f"{R}/budgets/token/{TOKEN}/confirm", _decide(APPROVED, "Budget confirmed")),
        ("POST", f"{R}/budgets/token/{TOKEN}/reject", _decide(REJECTED, "Budget rejected")),
    ]
