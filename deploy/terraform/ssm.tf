# One SecureString parameter per secret. Terraform creates each with a placeholder and never
# reads or overwrites its value afterwards: the operator sets the real value with
# `aws ssm put-parameter --overwrite` (docs/deploy-aws.md), so no secret enters the state.

resource "aws_ssm_parameter" "secret" {
  for_each = local.ssm_parameter_names

  name        = each.value
  description = "${each.key} of ${local.prefix}; set with aws ssm put-parameter --overwrite"
  type        = "SecureString"
  key_id      = aws_kms_key.main.arn
  value       = "unset"

  lifecycle {
    ignore_changes = [value]
  }
}
