# The HTTP API: every route of local.routes goes to the http function (proxy, payload 2.0).

resource "aws_apigatewayv2_api" "http" {
  name          = "${local.prefix}-http"
  description   = "Send Songs webhooks, Spotify sign-up and data deletion"
  protocol_type = "HTTP"
}

resource "aws_cloudwatch_log_group" "api_access" {
  name              = "/aws/apigateway/${local.prefix}-http"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.main.arn
  #checkov:skip=CKV_AWS_338:Access logs carry caller IPs; retention is var.log_retention_days (30 days by default) for data minimisation, not a year
}

resource "aws_apigatewayv2_stage" "default" {
  api_id      = aws_apigatewayv2_api.http.id
  name        = "$default"
  auto_deploy = true

  default_route_settings {
    throttling_rate_limit  = var.api_throttle.rate_limit
    throttling_burst_limit = var.api_throttle.burst_limit
  }

  access_log_settings {
    destination_arn = aws_cloudwatch_log_group.api_access.arn
    format = jsonencode({
      requestId          = "$context.requestId"
      requestTime        = "$context.requestTime"
      sourceIp           = "$context.identity.sourceIp"
      httpMethod         = "$context.httpMethod"
      routeKey           = "$context.routeKey"
      status             = "$context.status"
      responseLength     = "$context.responseLength"
      integrationLatency = "$context.integrationLatency"
      integrationError   = "$context.integrationErrorMessage"
    })
  }
}

resource "aws_apigatewayv2_integration" "http" {
  api_id                 = aws_apigatewayv2_api.http.id
  integration_type       = "AWS_PROXY"
  integration_uri        = aws_lambda_function.main["http"].invoke_arn
  payload_format_version = "2.0"
  timeout_milliseconds   = 29000
}

resource "aws_apigatewayv2_route" "http" {
  for_each = toset(local.routes)
  #checkov:skip=CKV_AWS_309:Callers are Facebook, Telegram and people's browsers, which cannot sign AWS requests; the app authenticates each route itself (X-Hub-Signature-256, the Telegram secret token, signed OAuth state, signed_request)

  api_id    = aws_apigatewayv2_api.http.id
  route_key = each.value
  target    = "integrations/${aws_apigatewayv2_integration.http.id}"
}

resource "aws_lambda_permission" "api" {
  for_each = toset(local.routes)

  statement_id  = "ApiGateway-${replace(replace(each.value, " /", "-"), "/", "-")}"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.main["http"].function_name
  principal     = "apigateway.amazonaws.com"
  # arn:…:execute-api:REGION:ACCOUNT:API_ID/STAGE/METHOD/PATH
  source_arn = "${aws_apigatewayv2_api.http.execution_arn}/*/${split(" ", each.value)[0]}${split(" ", each.value)[1]}"
}
