# One SecureString parameter per secret. Terraform creates each with the placeholder "unset"
# as a write-only value (`value_wo`: sent once, never stored in the plan or the state, and
# the value read back is discarded), and never sends it again while value_wo_version stays
# 1. The operator sets the real values with `aws ssm put-parameter --overwrite`
# (docs/deploy-aws.md), so no secret passes through Terraform.

resource "aws_ssm_parameter" "secret" {
  for_each = local.ssm_parameter_names

  name             = each.value
  description      = "${each.key} of ${local.prefix}; set with aws ssm put-parameter --overwrite"
  type             = "SecureString"
  key_id           = aws_kms_key.main.arn
  value_wo         = "unset"
  value_wo_version = 1
}
