"""The emulator-only admin API under ``/__emulator/`` (not Billoget's).

Keys, demo data, triggers, deliveries (with every attempt), redelivery, secret rotation,
faults, the request log, state dumps and a full reset.
"""

from __future__ import annotations

import time
from typing import TypeVar

import pydantic
from aiohttp import web

from core.signing import WebhookSecret
from emulator import errors, seed
from emulator.admin_models import KeyPatch, KeySpec, RotateIn, SeedIn, TriggerIn
from emulator.delivery import Delivery
from emulator.faults import Faults
from emulator.keys import ApiKey
from emulator.state import EMULATOR, ENVIRONMENTS, Emulator
from emulator.trigger import trigger

PREFIX = "/__emulator"
Model = TypeVar("Model", bound=pydantic.BaseModel)


async def _body(request: web.Request, model: type[Model]) -> Model:
    raw = await request.read()
    try:
        return model.model_validate_json(raw or b"{}")
    except pydantic.ValidationError as exc:
        raise errors.from_validation(exc) from None


def _emu(request: web.Request) -> Emulator:
    return request.app[EMULATOR]


def _key(request: web.Request) -> ApiKey:
    api_key = _emu(request).keys.get(int(request.match_info["id"]))
    if api_key is None:
        raise errors.not_found("API key")
    return api_key


def _secret(text: str) -> WebhookSecret:
    try:
        return WebhookSecret.parse(text)
    except Exception as exc:  # core's ConfigError: its message never shows the secret
        raise errors.validation_error(getattr(exc, "message", "invalid webhook secret")) from None


async def create_key(request: web.Request) -> web.Response:
    spec = await _body(request, KeySpec)
    emu = _emu(request)
    if spec.key is not None and emu.keys.find(spec.key) is not None:
        raise errors.validation_error("key already exists")
    api_key = emu.create_key(
        environment=spec.environment,
        name=spec.name,
        scopes=set(spec.scopes),
        status=spec.status,
        allowed_ips=spec.allowedIps,
        rate_limit_per_hour=spec.rateLimitPerHour,
        webhook_url=spec.webhookUrl,
        key=spec.key,
        secret=_secret(spec.webhookSecret) if spec.webhookSecret else None,
    )
    body = api_key.public() | {"key": api_key.key, "webhookSecret": api_key.secret.encode()}
    return web.json_response(body, status=201)


async def list_keys(request: web.Request) -> web.Response:
    return web.json_response({"data": [k.public() for k in _emu(request).keys.all()]})


async def get_key(request: web.Request) -> web.Response:
    return web.json_response(_key(request).public())


async def update_key(request: web.Request) -> web.Response:
    api_key = _key(request)
    patch = await _body(request, KeyPatch)
    fields = patch.model_fields_set
    if patch.name is not None:
        api_key.name = patch.name
    if patch.scopes is not None:
        api_key.scopes = set(patch.scopes)
    if patch.status is not None:
        api_key.status = patch.status
    if patch.allowedIps is not None:
        api_key.allowed_ips = patch.allowedIps
    if patch.rateLimitPerHour is not None:
        api_key.rate_limit_per_hour = patch.rateLimitPerHour
    if "webhookUrl" in fields:
        api_key.webhook_url = patch.webhookUrl
    api_key.endpoint_disabled = patch.webhookEndpointDisabled
    return web.json_response(api_key.public())


async def rotate_secret(request: web.Request) -> web.Response:
    api_key = _key(request)
    body = await _body(request, RotateIn)
    secret = _emu(request).keys.rotate_secret(api_key, grace_s=body.grace_s)
    return web.json_response(
        api_key.public()
        | {"webhookSecret": secret.encode(), "graceUntil": time.time() + body.grace_s}
    )


async def seed_data(request: web.Request) -> web.Response:
    body = await _body(request, SeedIn)
    emu = _emu(request)
    with emu.capture_deliveries() as sent:
        ids = seed.seed(emu.stores[body.environment])
    return web.json_response({"data": ids, "deliveries": [d.id for d in sent]}, status=201)


async def trigger_event(request: web.Request) -> web.Response:
    body = await _body(request, TriggerIn)
    emu = _emu(request)
    with emu.capture_deliveries() as sent:
        entity = trigger(emu.stores[body.environment], body)
    return web.json_response({"data": entity, "deliveries": [d.id for d in sent]})


async def list_deliveries(request: web.Request) -> web.Response:
    rows = _emu(request).dispatcher.all()
    query = request.query
    if status := query.get("status"):
        rows = [d for d in rows if d.state == status]
    if event := query.get("event"):
        rows = [d for d in rows if d.event == event]
    if key_id := query.get("keyId"):
        rows = [d for d in rows if str(d.key_id) == key_id]
    return web.json_response({"data": [d.public() for d in rows]})


def _delivery_or_404(request: web.Request) -> Delivery:
    delivery = _emu(request).dispatcher.get(request.match_info["id"])
    if delivery is None:
        raise errors.not_found("Delivery")
    return delivery


async def get_delivery(request: web.Request) -> web.Response:
    return web.json_response(_delivery_or_404(request).public())


async def redeliver(request: web.Request) -> web.Response:
    delivery = _emu(request).dispatcher.redeliver(_delivery_or_404(request))
    return web.json_response(delivery.public(), status=202)


async def get_requests(request: web.Request) -> web.Response:
    return web.json_response({"data": _emu(request).requests.entries()})


async def clear_requests(request: web.Request) -> web.Response:
    _emu(request).requests.clear()
    return web.json_response({"data": []})


async def get_faults(request: web.Request) -> web.Response:
    return web.json_response(_emu(request).faults.faults.model_dump())


async def set_faults(request: web.Request) -> web.Response:
    faults = await _body(request, Faults)
    _emu(request).faults.set(faults)
    return web.json_response(faults.model_dump())


async def clear_faults(request: web.Request) -> web.Response:
    _emu(request).faults.clear()
    return web.json_response(Faults().model_dump())


async def reset(request: web.Request) -> web.Response:
    _emu(request).reset()
    return web.json_response({"data": "reset"})


async def dump_state(request: web.Request) -> web.Response:
    environment = request.query.get("environment", "test")
    if environment not in ENVIRONMENTS:
        raise errors.validation_error("environment must be test or live")
    return web.json_response({"data": _emu(request).stores[environment].snapshot()})


def add_admin_routes(app: web.Application) -> None:
    r = app.router
    r.add_post(f"{PREFIX}/keys", create_key)
    r.add_get(f"{PREFIX}/keys", list_keys)
    r.add_get(PREFIX + r"/keys/{id:\d+}", get_key)
    r.add_patch(PREFIX + r"/keys/{id:\d+}", update_key)
    r.add_post(PREFIX + r"/keys/{id:\d+}/rotate-secret", rotate_secret)
    r.add_post(f"{PREFIX}/seed", seed_data)
    r.add_post(f"{PREFIX}/trigger", trigger_event)
    r.add_get(f"{PREFIX}/deliveries", list_deliveries)
    r.add_get(PREFIX + "/deliveries/{id}", get_delivery)
    r.add_post(PREFIX + "/deliveries/{id}/redeliver", redeliver)
    r.add_get(f"{PREFIX}/requests", get_requests)
    r.add_delete(f"{PREFIX}/requests", clear_requests)
    r.add_get(f"{PREFIX}/faults", get_faults)
    r.add_post(f"{PREFIX}/faults", set_faults)
    r.add_delete(f"{PREFIX}/faults", clear_faults)
    r.add_post(f"{PREFIX}/reset", reset)
    r.add_get(f"{PREFIX}/state", dump_state)
