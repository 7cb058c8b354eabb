"""The AWS stack in deploy/terraform: it parses, matches contract.json, and keeps its rules."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from .hcl import BOOTSTRAP, TERRAFORM, Stack, contract, in_terraform, load, string_literals

HANDLERS = {
    "sendsongs.aws.handlers.http_handler",
    "sendsongs.aws.handlers.inbox_handler",
    "sendsongs.aws.handlers.sweep_handler",
    "sendsongs.aws.handlers.check_handler",
}
IAM_ACTION = re.compile(r"^[a-z0-9-]+:[A-Za-z0-9]+$")


@pytest.fixture(scope="module")
def stack() -> Stack:
    return Stack.read(TERRAFORM)


@pytest.fixture(scope="module")
def bootstrap() -> Stack:
    return Stack.read(BOOTSTRAP)


@pytest.mark.parametrize(
    "path", sorted([*TERRAFORM.glob("*.tf"), *BOOTSTRAP.glob("*.tf")]), ids=lambda p: p.name
)
def test_every_file_parses(path: Path) -> None:
    assert load(path), f"{path} holds no block"


def test_the_four_handlers_are_exactly_the_contract_names(stack: Stack) -> None:
    functions = stack.locals()["functions"]
    assert {spec["handler"] for spec in functions.values()} == HANDLERS
    assert {name: spec["handler"] for name, spec in contract()["functions"].items()} == {
        name: spec["handler"] for name, spec in functions.items()
    }
    (lambda_,) = stack.resources("aws_lambda_function").values()
    assert lambda_["for_each"] == "${local.functions}"
    assert lambda_["handler"] == "${each.value.handler}"
    assert (lambda_["runtime"], lambda_["architectures"]) == ("python3.12", ["arm64"])
    assert lambda_["filename"] == "${var.lambda_package}"
    assert stack.variables()["lambda_package"]["default"] == "../../dist/lambda.zip"


def test_function_permissions_match_the_contract(stack: Stack) -> None:
    functions = stack.locals()["functions"]
    for name, spec in contract()["functions"].items():
        tables = functions[name]["tables"]
        if tables == "${local.all_tables}":
            tables = list(stack.locals()["tables"])
        assert tables == spec["tables"], name
        assert functions[name]["sends_to"] == spec["sends_to"], name
        assert functions[name]["consumes"] == spec["consumes"], name


def test_tables_keys_indexes_and_ttl_match_the_contract(stack: Stack) -> None:
    tables = stack.locals()["tables"]
    expected = contract()["tables"]
    assert set(tables) == set(expected)
    for role, spec in expected.items():
        table = tables[role]
        assert table["name"] == in_terraform(spec["name"]), role
        assert (spec["hash_key"], spec["range_key"]) == ("pk", "sk")
        assert table["attributes"] == spec["attributes"], role
        assert table["indexes"] == {
            index: {"hash_key": keys["hash_key"], "range_key": keys["range_key"]}
            for index, keys in spec["indexes"].items()
        }, role
        assert table["ttl"] == spec["ttl_attribute"], role
        # DynamoDB refuses attribute definitions no key uses, and keys without a definition.
        used = {"pk", "sk"} | {key for index in table["indexes"].values() for key in index.values()}
        assert set(table["attributes"]) == used, role


def test_the_table_resource_builds_every_contract_table_with_its_keys(stack: Stack) -> None:
    (table,) = stack.resources("aws_dynamodb_table").values()
    assert table["for_each"] == "${local.tables}"
    assert (table["hash_key"], table["range_key"]) == ("pk", "sk")
    assert table["billing_mode"] == "PAY_PER_REQUEST"
    assert table["point_in_time_recovery"] == [{"enabled": True}]
    assert table["server_side_encryption"] == [
        {"enabled": True, "kms_key_arn": "${aws_kms_key.main.arn}"}
    ]
    dynamic = {name: body for block in table["dynamic"] for name, body in block.items()}
    assert dynamic["attribute"]["for_each"] == "${each.value.attributes}"
    index = dynamic["global_secondary_index"]
    assert index["for_each"] == "${each.value.indexes}"
    assert index["content"][0]["hash_key"] == "${global_secondary_index.value.hash_key}"
    assert index["content"][0]["range_key"] == "${global_secondary_index.value.range_key}"
    assert dynamic["ttl"]["content"][0] == {"attribute_name": "${ttl.value}", "enabled": True}


def test_queues_match_the_contract_and_have_dead_letter_queues(stack: Stack) -> None:
    queues = stack.locals()["queues"]
    expected = contract()["queues"]
    assert set(queues) == set(expected)
    for role, spec in expected.items():
        queue = queues[role]
        assert queue["name"] == in_terraform(spec["name"]), role
        assert queue["dlq_name"] == in_terraform(spec["dead_letter_name"]), role
        assert queue["fifo"] is spec["fifo"], role
        assert (
            queue["fifo"] is queue["name"].endswith(".fifo") is queue["dlq_name"].endswith(".fifo")
        )
        assert queue["url_variable"] == spec["url_variable"], role
        assert queue["max_receive_count"] == spec["max_receive_count"], role
    main = stack.resources("aws_sqs_queue")["main"]
    assert main["content_based_deduplication"] == "${each.value.fifo ? false : null}"
    assert "aws_sqs_queue.dead_letter[each.key].arn" in main["redrive_policy"]
    for queue in stack.resources("aws_sqs_queue").values():
        assert queue["kms_master_key_id"] == "${aws_kms_key.main.arn}"
    (mapping,) = stack.resources("aws_lambda_event_source_mapping").values()
    assert mapping["function_response_types"] == ["ReportBatchItemFailures"]


def test_environment_names_are_the_contract_names(stack: Stack) -> None:
    locals_ = stack.locals()
    environment = contract()["environment"]
    assert list(locals_["plain_environment"]) == environment["plain"]
    assert string_literals(locals_["secret_variables"]) == environment["secrets"]
    switched = {
        name: variable
        for variable, names in re.findall(
            r"var\.(\w+) \? \[([^\]]*)\]", locals_["secret_variables"]
        )
        for name in string_literals(names)
    }
    assert switched == environment["enabled_by"]
    assert set(environment["enabled_by"].values()) <= set(stack.variables())
    assert "{VAR}" + locals_["ssm_parameter_suffix"] == environment["ssm"]["variable"]
    assert locals_["ssm_parameter_names"] == (
        "${{for name in local.secret_variables : name => "
        + '"'
        + in_terraform(environment["ssm"]["parameter_name"]).replace("{VAR}", "${name}")
        + '"}}'
    )
    assert locals_["environment"].startswith("${merge(local.plain_environment, {for name,")
    for queue in locals_["queues"].values():
        assert queue["url_variable"] in environment["plain"]
    for lambda_ in stack.resources("aws_lambda_function").values():
        assert lambda_["environment"] == [{"variables": "${local.environment}"}]


def _environment_blocks(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, dict):
        found = [value["variables"]] if "variables" in value else []
        return found + [block for v in value.values() for block in _environment_blocks(v)]
    if isinstance(value, list):
        return [block for v in value for block in _environment_blocks(v)]
    return []


def test_no_secret_is_given_as_a_plain_value(stack: Stack) -> None:
    secrets = set(contract()["environment"]["secrets"])
    assert not secrets & set(stack.locals()["plain_environment"])
    for parsed in stack.files.values():
        for variables in _environment_blocks(parsed):
            if isinstance(variables, dict):
                assert not secrets & set(variables)
    # secrets never travel through tfvars either
    assert not {name.lower() for name in secrets} & set(stack.variables())
    (parameter,) = stack.resources("aws_ssm_parameter").values()
    assert parameter["type"] == "SecureString"
    assert parameter["key_id"] == "${aws_kms_key.main.arn}"
    # only a write-only placeholder: the real value is set outside Terraform, never in state
    assert "value" not in parameter
    assert (parameter["value_wo"], parameter["value_wo_version"]) == ("unset", 1)


def _statements(document: dict[str, Any]) -> list[dict[str, Any]]:
    statements = list(document.get("statement", []))
    for block in document.get("dynamic", []):
        if "statement" in block:
            statements.extend(block["statement"]["content"])
    return statements


def _actions(value: Any, locals_: dict[str, Any]) -> list[str]:
    """A statement's actions, with local.NAME and concat(local.A, local.B) resolved."""
    if isinstance(value, list):
        return [str(v) for v in value]
    names = re.findall(r"local\.(\w+)", value)
    assert names, f"actions must be a list or locals: {value}"
    return [action for name in names for action in _actions(locals_[name], locals_)]


@pytest.mark.parametrize("directory", [TERRAFORM, BOOTSTRAP], ids=["stack", "bootstrap"])
def test_every_policy_statement_names_its_actions_without_wildcards(directory: Path) -> None:
    stack = Stack.read(directory)
    locals_ = stack.locals()
    documents = stack.of_type("data", "aws_iam_policy_document")
    assert documents
    for name, document in documents.items():
        for statement in _statements(document):
            assert "not_actions" not in statement, name
            actions = _actions(statement["actions"], locals_)
            assert actions, name
            for action in actions:
                assert IAM_ACTION.match(action), f"{name}: {action!r}"
    # every policy attached to a role is one of those documents
    for policy in stack.resources("aws_iam_role_policy").values():
        assert policy["policy"].startswith("${data.aws_iam_policy_document.")


def test_every_log_group_has_retention_and_every_function_logs_to_one(stack: Stack) -> None:
    groups = stack.resources("aws_cloudwatch_log_group")
    assert set(groups) == {"function", "api_access"}
    for group in groups.values():
        assert group["retention_in_days"] == "${var.log_retention_days}"
        assert group["kms_key_id"] == "${aws_kms_key.main.arn}"
    (lambda_,) = stack.resources("aws_lambda_function").values()
    assert lambda_["logging_config"][0]["log_group"] == (
        "${aws_cloudwatch_log_group.function[each.key].name}"
    )


def test_routes_are_the_contract_routes_through_one_proxy_integration(stack: Stack) -> None:
    assert stack.locals()["routes"] == contract()["routes"]
    (route,) = stack.resources("aws_apigatewayv2_route").values()
    assert route["for_each"] == "${toset(local.routes)}"
    (integration,) = stack.resources("aws_apigatewayv2_integration").values()
    assert integration["integration_type"] == "AWS_PROXY"
    assert integration["payload_format_version"] == "2.0"
    assert integration["integration_uri"] == '${aws_lambda_function.main["http"].invoke_arn}'


def test_outputs_give_every_url_an_operator_pastes(stack: Stack) -> None:
    outputs = stack.outputs()
    assert outputs["messenger_webhook_url"]["value"] == "${local.public_url}/webhook"
    assert outputs["telegram_webhook_url"]["value"] == "${local.public_url}/telegram/webhook"
    assert outputs["spotify_redirect_uri"]["value"] == "${local.public_url}/spotify/callback"
    assert outputs["signup_url"]["value"] == "${local.public_url}/spotify/login"
    assert outputs["data_deletion_callback_url"]["value"] == (
        "${local.public_url}/messenger/data-deletion"
    )


def _regex_of(stack: Stack, variable: str) -> re.Pattern[str]:
    (condition,) = [v["condition"] for v in stack.variables()[variable]["validation"]]
    return re.compile(string_literals(condition)[0])


@pytest.mark.parametrize(
    ("variable", "accepted", "refused"),
    [
        (
            "public_url",
            ["https://abc123.execute-api.eu-west-1.amazonaws.com", "https://bot.example.org"],
            ["http://bot.example.org", "https://bot.example.org/", "bot.example.org"],
        ),
        ("region", ["eu-west-1", "us-east-2", "us-gov-west-1"], ["EU-WEST-1", "eu-west", "x"]),
        ("name_prefix", ["sendsongs", "ss-prod2"], ["Send", "-a", "a-", "a" * 25, "a_b"]),
    ],
)
def test_variable_validation_accepts_and_refuses(
    stack: Stack, variable: str, accepted: list[str], refused: list[str]
) -> None:
    pattern = _regex_of(stack, variable)
    assert all(pattern.search(value) for value in accepted)
    assert not any(pattern.search(value) for value in refused)


def test_every_variable_is_described_and_the_risky_ones_validated(stack: Stack) -> None:
    variables = stack.variables()
    for name, body in variables.items():
        assert body.get("description"), name
    for name in ("region", "name_prefix", "public_url", "schedule", "log_retention_days"):
        assert variables[name].get("validation"), name
    (retention,) = variables["log_retention_days"]["validation"]
    assert "[1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365," in retention["condition"]
    (schedule,) = variables["schedule"]["validation"]
    assert "seconds > 0" in schedule["condition"]


def test_state_is_remote_locked_and_its_bucket_private(stack: Stack, bootstrap: Stack) -> None:
    backends = [b["backend"] for b in stack.blocks("terraform") if "backend" in b]
    assert backends == [[{"s3": {**backends[0][0]["s3"], "encrypt": True, "use_lockfile": True}}]]
    (block,) = bootstrap.resources("aws_s3_bucket_public_access_block").values()
    assert all(block[flag] is True for flag in ("block_public_acls", "block_public_policy"))
    assert all(block[flag] is True for flag in ("ignore_public_acls", "restrict_public_buckets"))
    (versioning,) = bootstrap.resources("aws_s3_bucket_versioning").values()
    assert versioning["versioning_configuration"] == [{"status": "Enabled"}]
    (encryption,) = bootstrap.resources(
        "aws_s3_bucket_server_side_encryption_configuration"
    ).values()
    default = encryption["rule"][0]["apply_server_side_encryption_by_default"][0]
    assert default["sse_algorithm"] == "aws:kms"


def test_every_checkov_skip_gives_a_reason() -> None:
    for path in [*TERRAFORM.glob("*.tf"), *BOOTSTRAP.glob("*.tf")]:
        for line in path.read_text().splitlines():
            if "checkov:skip" in line:
                match = re.search(r"#checkov:skip=(CKV2?_AWS_\d+):(.+)", line)
                assert match, f"{path.name}: {line.strip()}"
                assert len(match.group(2).split()) >= 5, f"{path.name}: reason too short"
