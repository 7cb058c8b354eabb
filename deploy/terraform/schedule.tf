# Every minute, EventBridge runs the sweep with its scheduled-event payload.

resource "aws_cloudwatch_event_rule" "sweep" {
  name                = "${local.prefix}-sweep"
  description         = "Runs the ${local.prefix} sweep: due recipient checks and the outbox"
  schedule_expression = "rate(1 minute)"
}

resource "aws_cloudwatch_event_target" "sweep" {
  rule = aws_cloudwatch_event_rule.sweep.name
  arn  = aws_lambda_function.main["sweep"].arn
}

resource "aws_lambda_permission" "sweep" {
  statement_id  = "EventBridgeSweep"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.main["sweep"].function_name
  principal     = "events.amazonaws.com"
  source_arn    = aws_cloudwatch_event_rule.sweep.arn
}
