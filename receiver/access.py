"""Who may call what: sender IP allowlist for the webhook, token or loopback for admin routes.

- The client address is the peer's, unless the peer is a trusted proxy: then the right-most
  ``X-Forwarded-For`` entry that is not itself a trusted proxy (the left part is spoofable).
- ``ALLOWED_SENDER_IPS`` (empty: anyone) guards ``POST /webhooks/billoget`` → 403 otherwise.
- ``/admin/...`` needs ``Authorization: Bearer <ADMIN_TOKEN>`` when a token is set, and is
  answered only to loopback clients when none is. Health checks stay open.
- ``/metrics`` takes ``METRICS_TOKEN`` or ``ADMIN_TOKEN`` when either is set (a scraper needs
  no admin token), and answers loopback clients only when neither is.
  answered only to loopback clients when none is. Health checks stay open. The inspector's
  pages (routes named ``inspector.*``) apply the same rule with a login form instead.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
from dataclasses import dataclass, field

from aiohttp import web
from aiohttp.typedefs import Handler

from core.errors import ForbiddenError, SenderNotAllowedError, UnauthorizedAdminError
from core.settings import IPNetwork, Settings

log = logging.getLogger(__name__)

ADMIN_PREFIX = "/admin/"
METRICS_PATH = "/metrics"
INSPECTOR_ROUTE_PREFIX = "inspector."
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True, slots=True)
class AccessPolicy:
    """Parsed once from :class:`Settings` at start-up."""

    senders: list[IPNetwork]
    proxies: list[IPNetwork]
    admin_token: bytes = field(repr=False)
    metrics_tokens: tuple[bytes, ...] = field(default=(), repr=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> AccessPolicy:
        token = settings.admin_token.get_secret_value() if settings.admin_token else ""
        metrics = settings.metrics_token.get_secret_value() if settings.metrics_token else ""
        return cls(
            settings.sender_networks(),
            settings.proxy_networks(),
            token.encode(),
            tuple(t.encode() for t in (metrics, token) if t),
        )


ACCESS_KEY = web.AppKey("access_policy", AccessPolicy)


def _parse_ip(text: str | None) -> IPAddress | None:
    if not text:
        return None
    try:
        address = ipaddress.ip_address(text.strip().split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _within(address: IPAddress, networks: list[IPNetwork]) -> bool:
    return any(address in network for network in networks)


def client_ip(request: web.Request, proxies: list[IPNetwork]) -> IPAddress | None:
    """The client's address, following ``X-Forwarded-For`` through trusted proxies only."""
    peer = _parse_ip(request.remote)
    if peer is None or not proxies or not _within(peer, proxies):
        return peer
    hops = [h for h in request.headers.get("X-Forwarded-For", "").split(",") if h.strip()]
    for hop in reversed(hops):
        address = _parse_ip(hop)
        if address is None:
            return None  # a garbled chain: trust nothing
        if not _within(address, proxies):
            return address
    return peer


def via_https(request: web.Request, proxies: list[IPNetwork]) -> bool:
    """The client reached us over HTTPS: directly, or as a trusted proxy says
    (``X-Forwarded-Proto: https``)."""
    if request.secure:
        return True
    peer = _parse_ip(request.remote)
    if peer is None or not _within(peer, proxies):
        return False
    proto = request.headers.get("X-Forwarded-Proto", "").split(",")[-1].strip().lower()
    return proto == "https"


def _check_admin(request: web.Request, policy: AccessPolicy, address: IPAddress | None) -> None:
    if policy.admin_token:
        given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(given.encode(), policy.admin_token):
            raise UnauthorizedAdminError("admin routes need Authorization: Bearer <ADMIN_TOKEN>")
    elif address is None or not address.is_loopback:
        raise ForbiddenError(
            "admin routes answer loopback clients only; set ADMIN_TOKEN to reach them remotely"
        )


def _check_metrics(request: web.Request, policy: AccessPolicy, address: IPAddress | None) -> None:
    if policy.metrics_tokens:
        given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip().encode()
        # every token compared, in constant time each
        if not sum(hmac.compare_digest(given, token) for token in policy.metrics_tokens):
            raise UnauthorizedAdminError("/metrics needs Authorization: Bearer <METRICS_TOKEN>")
    elif address is None or not address.is_loopback:
        raise ForbiddenError(
            "/metrics answers loopback clients only; set METRICS_TOKEN to scrape it remotely"
        )


def is_inspector_route(request: web.Request) -> bool:
    """The inspector's pages guard themselves (login page, session cookie, CSRF): see
    :mod:`receiver.inspector.guard`."""
    name = request.match_info.route.name
    return name is not None and name.startswith(INSPECTOR_ROUTE_PREFIX)


@web.middleware
async def access_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    policy = request.app[ACCESS_KEY]
    path = request.path
    if path.startswith(ADMIN_PREFIX) and not is_inspector_route(request):
        _check_admin(request, policy, client_ip(request, policy.proxies))
    elif path == METRICS_PATH:
        _check_metrics(request, policy, client_ip(request, policy.proxies))
    elif policy.senders and path.startswith("/webhooks/"):
        address = client_ip(request, policy.proxies)
        if address is None or not _within(address, policy.senders):
            log.info("webhook from %s refused: not in ALLOWED_SENDER_IPS", address)
            raise SenderNotAllowedError("this sender's IP address is not in ALLOWED_SENDER_IPS")
    return await handler(request)
