# Remote state in S3, locked by an S3 lock file (no DynamoDB lock table needed).
# The bucket comes from the bootstrap stack (bootstrap/); bucket and region are given at
# init time so this file holds no account-specific value:
#
#   terraform init -backend-config=backend.hcl
#
# where backend.hcl (printed by the bootstrap stack's `backend_config` output) reads:
#
#   bucket = "sendsongs-tfstate-123456789012"
#   region = "eu-west-1"
terraform {
  backend "s3" {
    key          = "sendsongs/terraform.tfstate"
    encrypt      = true
    use_lockfile = true
  }
}
