"""How many webhook deliveries wait for their answer right now.

Acknowledging a delivery is cheap and has a deadline (Messenger and Telegram
redeliver what is not answered in time, and Messenger disables a webhook that keeps
failing); answering the person is dearer and can wait a moment. The local worker
asks `quiet()` before each batch of answers, so under a flood of webhooks the
acknowledgements come first (docs/benchmarks.md).
"""

from __future__ import annotations

import asyncio
import contextlib

from starlette.types import ASGIApp, Message, Receive, Scope, Send

WEBHOOK_PATHS = frozenset({"/webhook", "/telegram/webhook"})
# Quiet means no webhook in flight for this long (seconds): between the requests of a
# flood the count touches zero for microseconds, which is no pause at all.
QUIET_FOR = 0.002


class WebhooksInFlight:
    """A count of webhook requests between their whole body and their answer."""

    def __init__(self, quiet_for: float = QUIET_FOR) -> None:
        self._count = 0
        self._none = asyncio.Event()
        self._none.set()
        self._quiet_for = quiet_for
        self._last_left = 0.0  # event loop time

    @property
    def count(self) -> int:
        return self._count

    def enter(self) -> None:
        self._count += 1
        self._none.clear()

    def leave(self) -> None:
        self._count -= 1
        if self._count == 0:
            self._last_left = asyncio.get_running_loop().time()
            self._none.set()

    async def quiet(self, at_most: float) -> None:
        """Returns once no webhook request has been in flight for `quiet_for`
        seconds, or after `at_most` seconds, whichever comes first."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + at_most
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout_at(deadline):
                while True:
                    await self._none.wait()
                    since = loop.time() - self._last_left
                    if self._count == 0 and since >= self._quiet_for:
                        return
                    await asyncio.sleep(self._quiet_for - since)


class CountWebhooks:
    """ASGI middleware keeping a WebhooksInFlight up to date. A request counts
    from the last chunk of its body on: one still trickling in costs the process
    nothing, and must not hold up answers (anyone can open a connection and send
    half a body, before any signature is checked)."""

    def __init__(self, app: ASGIApp, in_flight: WebhooksInFlight) -> None:
        self.app = app
        self.in_flight = in_flight

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] not in WEBHOOK_PATHS:
            await self.app(scope, receive, send)
            return
        counted = False

        async def receive_counting() -> Message:
            nonlocal counted
            message = await receive()
            if not counted and message["type"] == "http.request" and not message.get("more_body"):
                counted = True
                self.in_flight.enter()
            return message

        try:
            await self.app(scope, receive_counting, send)
        finally:
            if counted:
                self.in_flight.leave()
