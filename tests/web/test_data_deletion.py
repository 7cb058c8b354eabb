"""`/messenger/data-deletion` in process: what a forged, oversized or odd request
gets, and a status page that echoes nothing unescaped."""

from __future__ import annotations

import httpx

from sendsongs.bootstrap import build_app
from tests.adapters.test_messenger_deletion import payload, signed
from tests.web.test_app import APP_SECRET, runtime

URL = "/messenger/data-deletion"


def client(**settings: str) -> httpx.AsyncClient:
    built, _, _ = runtime(**settings)
    app = build_app(built, run_worker=False)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://bot.example")


async def test_a_genuine_request_gets_a_code_and_its_page_says_when() -> None:
    async with client() as http:
        # the runtime's clock is fixed at 2025-01-01 12:00 UTC
        body = payload(issued_at=1735732800 - 60, expires=1735732800 + 3600)
        answer = await http.post(URL, data={"signed_request": signed(body, APP_SECRET)})
        assert answer.status_code == 200, answer.text
        code = answer.json()["confirmation_code"]
        assert answer.json()["url"] == f"https://bot.example{URL}?code={code}"
        page = await http.get(URL, params={"code": code})
        assert page.status_code == 200 and "01 January 2025 at 12:00" in page.text


async def test_forged_requests_get_400_saying_why() -> None:
    async with client() as http:
        forged = signed(payload(), "someone-elses-secret")
        answer = await http.post(URL, data={"signed_request": forged})
        assert answer.status_code == 400
        assert answer.json() == {"error": "invalid signed_request: the signature does not match"}
        assert (await http.post(URL, data={"other": "x"})).status_code == 400
        huge = await http.post(URL, data={"signed_request": "x" * 20_000})
        assert huge.status_code == 413


async def test_the_status_page_escapes_what_it_echoes() -> None:
    async with client() as http:
        page = await http.get(URL, params={"code": "<script>alert(1)</script>"})
        assert page.status_code == 404
        assert "<script>" not in page.text and "&lt;script&gt;" in page.text
        assert (await http.get(URL)).status_code == 400


async def test_without_messenger_the_callback_is_absent() -> None:
    async with client(
        MESSENGER_VERIFY_TOKEN="", MESSENGER_APP_SECRET="", MESSENGER_PAGE_ACCESS_TOKEN="",
        TELEGRAM_BOT_TOKEN="123:abc", TELEGRAM_WEBHOOK_SECRET="s3cret",
    ) as http:  # fmt: skip
        answer = await http.post(URL, data={"signed_request": signed(payload(), APP_SECRET)})
        assert answer.status_code == 404
