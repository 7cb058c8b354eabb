# The four functions of local.functions, their log groups and their SQS triggers.

resource "aws_cloudwatch_log_group" "function" {
  for_each = local.functions

  name              = "/aws/lambda/${local.prefix}-${each.key}"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.main.arn
  #checkov:skip=CKV_AWS_338:Logs carry chat user ids; retention is var.log_retention_days (30 days by default) for data minimisation, not a year
}

resource "aws_lambda_function" "main" {
  for_each = local.functions
  #checkov:skip=CKV_AWS_116:A Lambda DLQ only catches asynchronous invocations: http is synchronous (API Gateway), inbox and check read SQS queues whose redrive DLQs hold failures, and a failed sweep is followed by the next minute's run and raises the errors alarm
  #checkov:skip=CKV_AWS_117:The functions reach only public AWS and chat/music APIs; a VPC would add NAT gateways (about 33 USD a month each) and protect nothing
  #checkov:skip=CKV_AWS_272:Packages are built by `make lambda-zip` and deployed by the same operator; AWS Signer profiles are not part of this stack

  function_name                  = "${local.prefix}-${each.key}"
  description                    = each.value.description
  role                           = aws_iam_role.function[each.key].arn
  handler                        = each.value.handler
  runtime                        = "python3.12"
  architectures                  = ["arm64"]
  memory_size                    = each.value.memory
  timeout                        = each.value.timeout
  reserved_concurrent_executions = var.reserved_concurrency[each.key]
  filename                       = var.lambda_package
  source_code_hash               = filebase64sha256(var.lambda_package)
  kms_key_arn                    = aws_kms_key.main.arn

  environment {
    variables = local.environment
  }

  logging_config {
    log_format = "JSON"
    log_group  = aws_cloudwatch_log_group.function[each.key].name
  }

  tracing_config {
    mode = "Active"
  }

  depends_on = [aws_iam_role_policy.function]
}

resource "aws_lambda_event_source_mapping" "queue" {
  for_each = { for fn, spec in local.functions : fn => spec.consumes if spec.consumes != null }

  event_source_arn        = aws_sqs_queue.main[each.value].arn
  function_name           = aws_lambda_function.main[each.key].arn
  batch_size              = 10
  function_response_types = ["ReportBatchItemFailures"]

  scaling_config {
    maximum_concurrency = var.reserved_concurrency[each.key]
  }
}

# A missed sweep is replaced by the next minute's: no retries that would pile up behind it.
resource "aws_lambda_function_event_invoke_config" "sweep" {
  function_name                = aws_lambda_function.main["sweep"].function_name
  maximum_retry_attempts       = 0
  maximum_event_age_in_seconds = 60
}
