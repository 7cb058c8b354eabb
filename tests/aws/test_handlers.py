"""The four Lambda handlers, driven with AWS's own event shapes against moto."""

from __future__ import annotations

import re
import time

import pytest

from sendsongs.aws import handlers
from sendsongs.aws.settings import lambda_settings
from sendsongs.errors import ConfigError
from tests.aws.conftest import Cloud

ALICE, BOB = "2000000000000001", "2000000000000002"
TRACK = "46X0dXeliHXD73sxexJx7d"


def people(cloud: Cloud) -> None:
    for psid, first, last, spotify in (
        (ALICE, "Alice", "Liddell", "alice.spotify"),
        (BOB, "Robert", "Jones", "bob.spotify"),
    ):
        cloud.sandbox(
            "POST", "/_sandbox/messenger/users", psid=psid, first_name=first, last_name=last
        )
        cloud.sandbox("POST", "/_sandbox/spotify/users", id=spotify, display_name=first)


def register(cloud: Cloud, psid: str, spotify: str, name: str) -> None:
    cloud.say(psid, f'register name:"{name}"')
    assert cloud.drain("inbox") == 1
    [text] = [m for m in cloud.messages(psid) if "/spotify/login?t=" in m]
    link = re.search(r"https://bot\.example(/spotify/login\?t=\S+)", text)
    assert link, text
    login = cloud.http("GET", link.group(1))
    assert login["statusCode"] == 302  # a plain response through the proxy integration
    callback = urlpath(cloud.consent(login["headers"]["location"], spotify))
    page = cloud.http("GET", callback)
    assert page["statusCode"] == 200, page
    assert any(f"You're connected, {name}!" in m for m in cloud.messages(psid))


def urlpath(url: str) -> str:
    assert url.startswith("https://bot.example/"), url
    return url.removeprefix("https://bot.example")


def test_register_share_play_listened_through_the_four_handlers(cloud: Cloud) -> None:
    people(cloud)
    register(cloud, ALICE, "alice.spotify", "Alice Liddell")
    register(cloud, BOB, "bob.spotify", "Bob Jones")
    cloud.say(
        ALICE,
        f'send_song name:"bob jones" pre:"You need this" post:"Told you!" '
        f"https://open.spotify.com/track/{TRACK}",
    )
    assert cloud.drain("inbox") == 1
    assert f"Alice Liddell: You need this https://open.spotify.com/track/{TRACK}" in (
        cloud.messages(BOB)
    )
    assert any(m.startswith("Sent ") for m in cloud.messages(ALICE))
    # the first check finds nothing played yet
    assert cloud.sweep()["checks_queued"] == 1
    assert not any("listened to" in m for m in cloud.messages(ALICE))
    cloud.sandbox("POST", "/_sandbox/spotify/play", user="bob.spotify", track_id=TRACK)
    deadline = time.monotonic() + 10
    while not any("Bob Jones listened to" in m for m in cloud.messages(ALICE)):
        assert time.monotonic() < deadline, cloud.messages(ALICE)
        cloud.sweep()  # the next check falls due a second later (fast interval)
        time.sleep(0.2)
    assert any('Alice Liddell says "Told you!" about' in m for m in cloud.messages(BOB))


def test_a_redelivered_webhook_is_handled_once(cloud: Cloud) -> None:
    people(cloud)
    cloud.sandbox("POST", "/_sandbox/messenger/say", psid=ALICE, text="help")
    body, headers = cloud.capture.posts.pop()
    for _ in range(2):  # Messenger delivers again when it missed our 200
        assert cloud.http("POST", "/webhook", body, **headers)["statusCode"] == 200
    cloud.drain("inbox")
    assert len(cloud.messages(ALICE)) == 1


def test_a_forged_webhook_is_refused_and_queues_nothing(cloud: Cloud) -> None:
    cloud.sandbox("POST", "/_sandbox/messenger/users", psid=ALICE, first_name="A", last_name="L")
    cloud.sandbox("POST", "/_sandbox/messenger/say", psid=ALICE, text="help")
    body, headers = cloud.capture.posts.pop()
    headers["x-hub-signature-256"] = "sha256=" + "0" * 64
    assert cloud.http("POST", "/webhook", body, **headers)["statusCode"] == 403
    assert cloud.drain("inbox") == 0


def test_health_and_verification_through_api_gateway(cloud: Cloud) -> None:
    assert cloud.http("GET", "/healthz")["statusCode"] == 200
    verify = cloud.http(
        "GET", "/webhook?hub.mode=subscribe&hub.verify_token=lambda-verify-token&hub.challenge=42"
    )
    assert (verify["statusCode"], verify["body"]) == (200, "42")


def test_a_failing_record_is_reported_alone(cloud: Cloud) -> None:
    records = {
        "Records": [
            {
                "messageId": "bad",
                "receiptHandle": "r1",
                "body": "not json",
                "attributes": {"MessageGroupId": "g1"},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:1:q",
                "awsRegion": "us-east-1",
            },
            {
                "messageId": "unknown",
                "receiptHandle": "r2",
                "body": '{"id": "messenger:nope"}',
                "attributes": {"MessageGroupId": "g2"},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:1:q",
                "awsRegion": "us-east-1",
            },
        ]
    }
    answer = handlers.inbox_handler(records, cloud.context)
    assert answer["batchItemFailures"] == [{"itemIdentifier": "bad"}]
    stale_claim = '{"recipient_id": "x", "claim": "spent", "version": 1}'  # lost: fine
    checks = {
        "Records": [
            {**records["Records"][0], "body": '{"recipient_id": "x"}'},
            {**records["Records"][1], "body": stale_claim},
        ]
    }
    answer = handlers.check_handler(checks, cloud.context)
    assert answer["batchItemFailures"] == [{"itemIdentifier": "bad"}]


def test_a_lost_hand_over_is_queued_again_by_the_sweep(cloud: Cloud, monkeypatch) -> None:
    people(cloud)
    cloud.say(ALICE, "help")
    lost = cloud.sqs.receive_message(QueueUrl=cloud.queues["inbox"], MaxNumberOfMessages=10)
    for message in lost.get("Messages", []):  # as if SQS never had it
        cloud.sqs.delete_message(
            QueueUrl=cloud.queues["inbox"], ReceiptHandle=message["ReceiptHandle"]
        )
    assert cloud.sweep()["requeued"] == 0  # not stale yet
    monkeypatch.setattr(handlers, "STALE_INBOX", handlers.STALE_INBOX * 0)
    assert cloud.sweep()["requeued"] == 1
    assert cloud.drain("inbox") == 1
    assert len(cloud.messages(ALICE)) == 1


def test_secrets_come_from_ssm_and_a_missing_one_is_named(cloud: Cloud, monkeypatch) -> None:
    settings = lambda_settings(__import__("os").environ)
    assert settings.secret("MESSENGER_APP_SECRET") == "sandbox-app-secret"
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN_SSM_PARAMETER", "/sendsongs/TELEGRAM_BOT_TOKEN")
    with pytest.raises(ConfigError, match="/sendsongs/TELEGRAM_BOT_TOKEN"):
        lambda_settings(__import__("os").environ)
