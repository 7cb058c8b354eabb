"""One moto server (DynamoDB, SQS, SSM over HTTP) per test session, on a free port."""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from moto.moto_server.threaded_moto_server import ThreadedMotoServer
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import make_server

FAKE_AWS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class _OneAtATime:
    """DynamoDB applies each write to an item atomically; moto's backends take no
    locks, so its threaded server could let two conditional writes both pass. One
    request at a time keeps the conditions as strict as the real service's."""

    def __init__(self, app: Any) -> None:
        self._app, self._lock = app, threading.Lock()

    def __call__(self, environ: Any, start_response: Any) -> Any:
        with self._lock:
            return list(self._app(environ, start_response))


class _SerialMotoServer(ThreadedMotoServer):
    def _server_entry(self) -> None:
        app = _OneAtATime(DomainDispatcherApplication(create_backend_app))
        self._server = make_server(
            self._ip_address, self._port, app, True, request_handler=MotoRequestHandler
        )
        self._server_ready_event.set()
        self._server.serve_forever()


@contextmanager
def moto_server() -> Iterator[str]:
    """A running moto server; yields its URL."""
    port = _free_port()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # a line per request otherwise
    server = _SerialMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def aws_env(endpoint: str) -> Mapping[str, str]:
    """The variables that send boto3 to the moto server with fake credentials."""
    return {**FAKE_AWS, "AWS_ENDPOINT_URL": endpoint, "AWS_ENDPOINT_URL_DYNAMODB": endpoint}


@contextmanager
def environ(values: Mapping[str, str]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def empty_tables(prefix: str) -> None:
    """Delete every item under `prefix` (tests only: the functions may not Scan)."""
    import boto3

    from sendsongs.stores.dynamodb import TABLES

    client = boto3.client("dynamodb")
    existing = set(client.list_tables()["TableNames"])
    for spec in TABLES:
        name = f"{prefix}-{spec.role}"
        if name not in existing:
            continue  # the first test's migrate makes it
        for page in client.get_paginator("scan").paginate(
            TableName=name, ProjectionExpression="pk, sk"
        ):
            for item in page["Items"]:
                client.delete_item(TableName=name, Key=item)
