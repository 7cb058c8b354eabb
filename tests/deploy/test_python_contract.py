"""The Python side of deploy/terraform/contract.json: the store's tables, the handler
names, the queue and environment variables are the ones Terraform builds."""

from __future__ import annotations

import importlib
import inspect
from typing import Any

from sendsongs.aws.settings import SUFFIX
from sendsongs.config import Settings
from sendsongs.stores.dynamodb import TABLES
from sendsongs.stores.dynamodb.tables import differences

from .hcl import contract


def test_the_store_expects_exactly_the_contract_tables() -> None:
    expected = contract()["tables"]
    assert {spec.role for spec in TABLES} == set(expected)
    for spec in TABLES:
        table = expected[spec.role]
        assert table["name"] == "{prefix}-" + spec.role
        assert (table["hash_key"], table["range_key"]) == ("pk", "sk")
        assert spec.attributes == table["attributes"], spec.role
        indexes = {
            index.name: {"hash_key": index.hash_key, "range_key": index.range_key}
            for index in spec.indexes
        }
        assert indexes == {
            name: {"hash_key": i["hash_key"], "range_key": i["range_key"]}
            for name, i in table["indexes"].items()
        }, spec.role
        assert all(i["projection"] == "ALL" for i in table["indexes"].values())
        assert spec.ttl == table["ttl_attribute"], spec.role


def _described(role: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The table as DescribeTable would show what Terraform built from the contract."""
    table = contract()["tables"][role]
    keys = [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}]
    described = {
        "KeySchema": keys,
        "AttributeDefinitions": [
            {"AttributeName": name, "AttributeType": kind}
            for name, kind in table["attributes"].items()
        ],
        "GlobalSecondaryIndexes": [
            {
                "IndexName": name,
                "KeySchema": [
                    {"AttributeName": index["hash_key"], "KeyType": "HASH"},
                    {"AttributeName": index["range_key"], "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": index["projection"]},
            }
            for name, index in table["indexes"].items()
        ],
    }
    ttl = (
        {"TimeToLiveStatus": "ENABLED", "AttributeName": table["ttl_attribute"]}
        if table["ttl_attribute"]
        else {"TimeToLiveStatus": "DISABLED"}
    )
    return described, ttl


def test_migrate_finds_no_difference_in_what_terraform_builds() -> None:
    for spec in TABLES:
        described, ttl = _described(spec.role)
        assert differences(spec, spec.role, described, ttl) == [], spec.role


def test_migrate_names_each_difference_on_its_own_line() -> None:
    [shares] = [spec for spec in TABLES if spec.role == "shares"]
    described, _ = _described("shares")
    described["GlobalSecondaryIndexes"] = [
        {
            "IndexName": "by_track",
            "KeySchema": [{"AttributeName": "track_uri", "KeyType": "HASH"}],
            "Projection": {"ProjectionType": "KEYS_ONLY"},
        }
    ]
    described["AttributeDefinitions"][2]["AttributeType"] = "N"
    lines = differences(shares, "p-shares", described, {"TimeToLiveStatus": "DISABLED"})
    assert lines == [
        "p-shares: attribute sender_id is N, expected S",
        "p-shares: index by_sender (sender_id, sent_key) is missing",
        "p-shares: index by_recipient (recipient_id, sent_key) is missing",
        "p-shares: index by_send (group_send, sent_key) is missing",
        "p-shares: index by_track is not used by this version",
        "p-shares: TTL attribute is None, expected expires_at",
    ]


def test_every_contract_handler_is_a_function_taking_event_and_context() -> None:
    for name, function in contract()["functions"].items():
        module, _, attribute = function["handler"].rpartition(".")
        handler = getattr(importlib.import_module(module), attribute)
        assert list(inspect.signature(handler).parameters) == ["event", "context"], name


def test_every_plain_variable_and_secret_is_a_setting() -> None:
    environment = contract()["environment"]
    aliases = {
        str(choice)
        for field in Settings.model_fields.values()
        for choice in getattr(field.validation_alias, "choices", [])
    }
    read_elsewhere = {"POWERTOOLS_SERVICE_NAME"}  # Powertools reads its own
    for name in [*environment["plain"], *environment["secrets"]]:
        assert name in aliases or name in read_elsewhere, name
    for queue in contract()["queues"].values():
        assert queue["url_variable"] in aliases
    assert environment["ssm"]["variable"] == "{VAR}" + SUFFIX
