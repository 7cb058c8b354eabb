"""The AWS stack in process: moto's DynamoDB, SQS and SSM (mock_aws), the four
handlers, and the sandbox app for Graph and Spotify over httpx's ASGI transport."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import httpx
import pytest
from moto import mock_aws

from sendsongs.aws import handlers
from sendsongs.bootstrap import Overrides
from sendsongs.crypto import TokenCipher
from sendsongs.sandbox.app import create_sandbox_app
from sendsongs.sandbox.config import SandboxConfig
from sendsongs.stores.dynamodb import open_dynamodb
from tests.aws.lambda_events import LambdaContext, http_event, scheduled_event, sqs_event
from tests.moto_server import FAKE_AWS

PREFIX = "sendsongs"
SANDBOX = "http://sandbox"
SECRETS = {
    "SENDSONGS_SECRET_KEY": "lambda-secret-key-0123456789abcdef",
    "SPOTIFY_CLIENT_SECRET": SandboxConfig.client_secret,
    "MESSENGER_VERIFY_TOKEN": "lambda-verify-token",
    "MESSENGER_APP_SECRET": SandboxConfig.app_secret,
    "MESSENGER_PAGE_ACCESS_TOKEN": SandboxConfig.page_access_token,
}


class _Capture(httpx.AsyncBaseTransport):
    """Where the sandbox posts webhook events: kept for the test to hand to the API."""

    def __init__(self) -> None:
        self.posts: list[tuple[bytes, dict[str, str]]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.posts.append((await request.aread(), dict(request.headers)))
        return httpx.Response(200, text="EVENT_RECEIVED")


class Cloud:
    """Drives the bot only through its four handlers, as AWS would call them."""

    def __init__(self, sandbox: httpx.AsyncClient, capture: _Capture, queues: dict[str, str]):
        self.sandbox_http, self.capture, self.queues = sandbox, capture, queues
        self.sqs = boto3.client("sqs")
        self.context = LambdaContext()

    def run(self, work: Any) -> Any:
        container = handlers._container
        assert container is not None
        return container.run(work)

    def sandbox(self, method: str, path: str, **body: Any) -> Any:
        response = self.run(self.sandbox_http.request(method, path, json=body or None))
        response.raise_for_status()
        return response.json()

    def messages(self, psid: str) -> list[str]:
        answer = self.sandbox("GET", f"/_sandbox/messenger/messages?psid={psid}")
        return [m["text"] for m in answer["messages"]]

    def http(self, method: str, url: str, body: bytes = b"", **headers: str) -> dict[str, Any]:
        return handlers.http_handler(http_event(method, url, body, headers), self.context)

    def say(self, psid: str, text: str) -> None:
        """The person writes; Messenger's POST goes through API Gateway to http_handler."""
        self.sandbox("POST", "/_sandbox/messenger/say", psid=psid, text=text)
        while self.capture.posts:
            body, headers = self.capture.posts.pop(0)
            answer = self.http("POST", "/webhook", body, **headers)
            assert answer["statusCode"] == 200, answer

    def drain(self, queue: str) -> int:
        """Hand what waits in a queue to its function, as the event source mapping
        does; returns how many records were handled."""
        handler = {"inbox": handlers.inbox_handler, "check": handlers.check_handler}[queue]
        url, handled = self.queues[queue], 0
        arn = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
        while True:
            got = self.sqs.receive_message(
                QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"], WaitTimeSeconds=0
            ).get("Messages", [])
            if not got:
                return handled
            response = handler(sqs_event(got, arn["Attributes"]["QueueArn"]), self.context)
            assert response["batchItemFailures"] == [], response
            self.sqs.delete_message_batch(
                QueueUrl=url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(got)
                ],
            )
            handled += len(got)

    def sweep(self) -> dict[str, int]:
        summary = handlers.sweep_handler(scheduled_event(), self.context)
        self.drain("check")
        return summary

    def consent(self, authorize_url: str, user: str) -> str:
        """Be the person on the (sandbox) Spotify consent page; the callback URL."""
        parts = urlsplit(authorize_url)
        form = {k: v[0] for k, v in parse_qs(parts.query).items()}
        answer = self.run(
            self.sandbox_http.post(parts.path, data={**form, "user": user, "decision": "allow"})
        )
        assert answer.status_code in (302, 303), answer.text
        return str(answer.headers["location"])


def _make_stack(environ: pytest.MonkeyPatch) -> dict[str, str]:
    """What Terraform would have made: tables, queues, SecureString parameters."""
    asyncio.run(open_dynamodb(PREFIX, TokenCipher("unused")).admin.migrate())
    sqs = boto3.client("sqs")
    inbox = sqs.create_queue(
        QueueName=f"{PREFIX}-inbox.fifo",
        Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "false"},
    )["QueueUrl"]
    check = sqs.create_queue(QueueName=f"{PREFIX}-check")["QueueUrl"]
    ssm = boto3.client("ssm")
    for name, value in SECRETS.items():
        ssm.put_parameter(Name=f"/{PREFIX}/{name}", Value=value, Type="SecureString")
        environ.setenv(f"{name}_SSM_PARAMETER", f"/{PREFIX}/{name}")
    return {"inbox": inbox, "check": check}


@pytest.fixture
def cloud(monkeypatch: pytest.MonkeyPatch) -> Iterator[Cloud]:
    for name in list(__import__("os").environ):
        if name.startswith(("SENDSONGS_", "MESSENGER_", "SPOTIFY_", "AWS_ENDPOINT_URL")):
            monkeypatch.delenv(name)
    for name, value in FAKE_AWS.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        queues = _make_stack(monkeypatch)
        for name, value in {
            "SENDSONGS_DATABASE_URL": f"dynamodb://{PREFIX}",
            "SENDSONGS_PUBLIC_URL": "https://bot.example",
            "SENDSONGS_INBOX_QUEUE_URL": queues["inbox"],
            "SENDSONGS_CHECK_QUEUE_URL": queues["check"],
            "SENDSONGS_FIRST_CHECK": "0",
            "SENDSONGS_FAST_INTERVAL": "1",
            "SENDSONGS_LOG_LEVEL": "WARNING",
            "MESSENGER_GRAPH_URL": f"{SANDBOX}/v26.0",
            "SPOTIFY_CLIENT_ID": SandboxConfig.client_id,
            "SPOTIFY_ACCOUNTS_URL": SANDBOX,
            "SPOTIFY_API_URL": f"{SANDBOX}/v1",
        }.items():
            monkeypatch.setenv(name, value)
        capture = _Capture()
        app = create_sandbox_app(
            SandboxConfig(webhook_url="https://bot.example/webhook"),
            webhook_client=httpx.AsyncClient(transport=capture),
        )
        sandbox = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=SANDBOX)
        handlers.cold_start(Overrides(http=sandbox))
        try:
            yield Cloud(sandbox, capture, queues)
        finally:
            container, handlers._container = handlers._container, None
            if container is not None:
                container.run(container.runtime.aclose())
                container.loop.close()
