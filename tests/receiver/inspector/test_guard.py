"""Who may see the inspector: loopback, or the ADMIN_TOKEN through the login form; CSRF on every
POST; the security headers on every response. In a real browser where a person would be."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.async_api import Browser, BrowserContext, expect

import receiver.inspector
from core.settings import Settings
from core.store import Status
from core.store.sqlite.store import SQLiteEventStore
from receiver.inspector.guard import SESSION_COOKIE, session_value
from tests.fixtures.browser import Shoot
from tests.fixtures.receiver import MakeReceiver, ReceiverClient
from tests.receiver.inspector.conftest import OpenInspector, seed

TOKEN = "inspector-test-token-5f2a"
REMOTE = "203.0.113.7"  # a documentation address, injected through a trusted proxy
REMOTE_SETTINGS = {"admin_token": TOKEN, "trusted_proxies": "127.0.0.1/32"}
PAGES = ["/admin/", "/admin/deliveries", "/admin/dead", "/admin/dead/confirm", "/admin/mirror"]


async def test_a_remote_client_gets_the_login_page_never_data_and_logs_in_with_the_token(
    store: SQLiteEventStore, open_inspector: OpenInspector, browser: Browser, shoot: Shoot
) -> None:
    [delivery_id] = seed(store, 1, prefix="private", status=Status.DEAD)
    base = await open_inspector(**REMOTE_SETTINGS)
    context = await browser.new_context(extra_http_headers={"X-Forwarded-For": REMOTE})
    page = await context.new_page()

    response = await page.goto(f"{base}/admin/deliveries?status=dead")
    assert response is not None and response.status == 401
    await expect(page.locator("h1")).to_have_text("Log in")
    assert delivery_id not in await page.content()
    await shoot(page, "login")

    await page.fill("input[name=token]", "not-the-token")
    await page.click("button[type=submit]")
    await expect(page.locator("p.error")).to_have_text("That is not the token.")
    assert delivery_id not in await page.content()

    await page.fill("input[name=token]", TOKEN)
    await page.click("button[type=submit]")
    await expect(page).to_have_url(f"{base}/admin/deliveries?status=dead")
    await expect(page.locator("table.events")).to_contain_text(delivery_id)
    [cookie] = [c for c in await context.cookies() if c["name"] == SESSION_COOKIE]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/admin/"
    assert TOKEN not in cookie["value"]

    await page.click("text=Log out")
    response = await page.goto(f"{base}/admin/")
    assert response is not None and response.status == 401


async def test_a_post_without_the_csrf_token_is_refused_and_changes_nothing(
    store: SQLiteEventStore, open_inspector: OpenInspector, context: BrowserContext
) -> None:
    [delivery_id] = seed(store, 1, prefix="dead", status=Status.DEAD)
    base = await open_inspector()
    page = await context.new_page()
    await page.goto(f"{base}/admin/deliveries/{delivery_id}")  # the browser holds the cookie
    url = f"{base}/admin/deliveries/{delivery_id}/replay"

    missing = await context.request.post(url, form={}, max_redirects=0)
    wrong = await context.request.post(url, form={"csrf_token": "guessed"}, max_redirects=0)
    assert (missing.status, wrong.status) == (403, 403)
    assert "CSRF" in await missing.text()
    assert store.get(delivery_id).status is Status.DEAD  # type: ignore[union-attr]

    await page.click("#replay")  # the page's own form carries it
    await expect(page.locator("#replayed")).to_be_visible()
    assert store.get(delivery_id).status is not Status.DEAD  # type: ignore[union-attr]


# -- over plain HTTP: headers and the refusals (no page to look at) ---------------------------


@pytest.fixture
def receiver_with(
    make_receiver: MakeReceiver, make_settings: Callable[..., Settings], receiver_redis_url: str
) -> Callable[..., object]:
    async def build(**overrides: object) -> ReceiverClient:
        return await make_receiver(
            settings=make_settings(redis_url=receiver_redis_url, **overrides)
        )

    return build


@pytest.mark.parametrize("path", [*PAGES, "/admin/login", "/admin/deliveries/nope"])
async def test_every_inspector_response_sets_a_strict_csp_and_forbids_framing(
    receiver_client: ReceiverClient, path: str
) -> None:
    async with receiver_client.get(path, allow_redirects=False) as resp:
        assert resp.status in (200, 303, 404)
        csp = resp.headers["Content-Security-Policy"]
        assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
        assert "script-src" not in csp  # no script at all
        assert resp.headers["X-Frame-Options"] == "DENY"
        assert resp.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("path", PAGES)
async def test_a_remote_client_without_a_session_gets_the_login_page(
    receiver_with: Callable[..., object], store: SQLiteEventStore, path: str
) -> None:
    seed(store, 2, prefix="secretive", status=Status.DEAD)
    client: ReceiverClient = await receiver_with(**REMOTE_SETTINGS)  # type: ignore[misc]
    async with client.get(path, headers={"X-Forwarded-For": REMOTE}) as resp:
        text = await resp.text()
    assert resp.status == 401 and "Log in" in text and "secretive" not in text


async def test_without_a_token_a_remote_client_is_told_the_inspector_is_loopback_only(
    receiver_with: Callable[..., object],
) -> None:
    client: ReceiverClient = await receiver_with(trusted_proxies="127.0.0.1/32")  # type: ignore[misc]
    async with client.get("/admin/", headers={"X-Forwarded-For": REMOTE}) as resp:
        assert resp.status == 403
        assert "loopback clients only" in await resp.text()


@pytest.mark.parametrize(
    "cookie",
    [
        "garbage",
        session_value(b"another-token", ttl_s=3600, now=time.time()),
        session_value(TOKEN.encode(), ttl_s=60, now=time.time() - 3600),  # expired
    ],
)
async def test_a_forged_or_expired_session_cookie_is_not_a_session(
    receiver_with: Callable[..., object], cookie: str
) -> None:
    client: ReceiverClient = await receiver_with(admin_token=TOKEN)  # type: ignore[misc]
    async with client.get("/admin/", cookies={SESSION_COOKIE: cookie}) as resp:
        assert resp.status == 401


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/elsewhere"])
async def test_the_login_only_sends_you_back_to_a_page_of_the_inspector(
    receiver_with: Callable[..., object], target: str
) -> None:
    client: ReceiverClient = await receiver_with(admin_token=TOKEN)  # type: ignore[misc]
    async with client.get("/admin/login") as resp:  # the CSRF cookie
        assert resp.status == 401
    csrf = client.session.cookie_jar.filter_cookies(client.make_url("/admin/"))["bh_csrf"].value
    form = {"token": TOKEN, "next": target, "csrf_token": csrf}
    async with client.post("/admin/login", data=form, allow_redirects=False) as resp:
        assert resp.status == 303 and resp.headers["Location"] == "/admin/"


async def test_the_json_admin_routes_still_want_the_bearer_token_not_the_session(
    receiver_with: Callable[..., object],
) -> None:
    client: ReceiverClient = await receiver_with(admin_token=TOKEN)  # type: ignore[misc]
    session = session_value(TOKEN.encode(), ttl_s=3600, now=time.time())
    async with client.get("/admin/events", cookies={SESSION_COOKIE: session}) as resp:
        assert resp.status == 401
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with client.get("/admin/events", headers=headers) as resp:
        assert resp.status == 200 and (await resp.json())["data"] == []


@pytest.mark.parametrize(("forwarded_proto", "secure"), [("https", True), ("http", False)])
async def test_the_session_cookie_is_secure_when_a_trusted_proxy_says_https(
    receiver_with: Callable[..., object], forwarded_proto: str, secure: bool
) -> None:
    client: ReceiverClient = await receiver_with(**REMOTE_SETTINGS)  # type: ignore[misc]
    headers = {"X-Forwarded-For": REMOTE, "X-Forwarded-Proto": forwarded_proto}
    async with client.get("/admin/login", headers=headers) as resp:
        csrf = resp.cookies["bh_csrf"].value
    form = {"token": TOKEN, "next": "/admin/", "csrf_token": csrf}
    async with client.post(
        "/admin/login",
        data=form,
        headers=headers,
        cookies={"bh_csrf": csrf},
        allow_redirects=False,
    ) as resp:
        assert resp.status == 303
        assert bool(resp.cookies[SESSION_COOKIE]["secure"]) is secure


async def test_the_stylesheet_and_icon_are_served_to_anyone_and_nothing_else_is(
    receiver_with: Callable[..., object],
) -> None:
    client: ReceiverClient = await receiver_with(**REMOTE_SETTINGS)  # type: ignore[misc]
    remote = {"X-Forwarded-For": REMOTE}  # no session: the login page needs them too
    for name, content_type, start in [
        ("inspector.css", "text/css", b""),
        ("favicon.svg", "image/svg+xml", b"<svg"),
    ]:
        async with client.get(f"/admin/static/{name}", headers=remote) as resp:
            body = await resp.read()
        assert resp.status == 200 and resp.content_type == content_type
        assert body == (Path(receiver.inspector.__file__).parent / "static" / name).read_bytes()
        assert body.startswith(start)
        assert resp.headers["X-Frame-Options"] == "DENY"
    for path in ["/admin/static/nope.css", "/admin/static/..%2F__init__.py"]:
        async with client.get(path, headers=remote) as resp:
            assert resp.status == 404, path
