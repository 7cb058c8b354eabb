# One role per function, allowed only the tables, indexes, queues, parameters and key that
# function uses (local.functions says which).

locals {
  dynamodb_actions = [
    "dynamodb:BatchGetItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:DeleteItem",
    "dynamodb:DescribeTable",
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:Query",
    "dynamodb:UpdateItem",
  ]

  # Table and index ARNs per function.
  function_table_arns = {
    for fn, spec in local.functions : fn => flatten([
      for table in spec.tables : concat(
        [aws_dynamodb_table.main[table].arn],
        [for index in keys(local.tables[table].indexes) : "${aws_dynamodb_table.main[table].arn}/index/${index}"],
      )
    ])
  }
}

data "aws_iam_policy_document" "lambda_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "function" {
  for_each = local.functions

  name               = "${local.prefix}-${each.key}-lambda"
  description        = "Runs the ${local.prefix} ${each.key} function"
  assume_role_policy = data.aws_iam_policy_document.lambda_assume.json
}

data "aws_iam_policy_document" "function" {
  for_each = local.functions

  statement {
    sid       = "OwnLogGroup"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.function[each.key].arn}:*"]
  }

  statement {
    sid       = "Tables"
    actions   = local.dynamodb_actions
    resources = local.function_table_arns[each.key]
  }

  statement {
    sid       = "SecretsOncePerColdStart"
    actions   = ["ssm:GetParameter", "ssm:GetParameters"]
    resources = [for parameter in aws_ssm_parameter.secret : parameter.arn]
  }

  statement {
    sid       = "StackKeyThroughItsServices"
    actions   = ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey"]
    resources = [aws_kms_key.main.arn]
    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values = [
        "dynamodb.${var.region}.amazonaws.com",
        "lambda.${var.region}.amazonaws.com",
        "sqs.${var.region}.amazonaws.com",
        "ssm.${var.region}.amazonaws.com",
      ]
    }
  }

  dynamic "statement" {
    for_each = length(each.value.sends_to) > 0 ? [each.value.sends_to] : []
    content {
      sid       = "SendToQueues"
      actions   = ["sqs:GetQueueAttributes", "sqs:SendMessage"]
      resources = [for queue in statement.value : aws_sqs_queue.main[queue].arn]
    }
  }

  dynamic "statement" {
    for_each = each.value.consumes == null ? [] : [each.value.consumes]
    content {
      sid = "ConsumeOwnQueue"
      actions = [
        "sqs:ChangeMessageVisibility",
        "sqs:DeleteMessage",
        "sqs:GetQueueAttributes",
        "sqs:ReceiveMessage",
      ]
      resources = [aws_sqs_queue.main[statement.value].arn]
    }
  }
}

resource "aws_iam_role_policy" "function" {
  for_each = local.functions

  name   = "${local.prefix}-${each.key}"
  role   = aws_iam_role.function[each.key].id
  policy = data.aws_iam_policy_document.function[each.key].json
}

# X-Ray accepts no resource-level permissions; the AWS managed policy grants only its
# trace-writing actions.
resource "aws_iam_role_policy_attachment" "xray" {
  for_each = local.functions

  role       = aws_iam_role.function[each.key].name
  policy_arn = "arn:${local.partition}:iam::aws:policy/AWSXRayDaemonWriteAccess"
}
