# Terraform and provider versions. S3 state locking (use_lockfile) needs Terraform 1.10,
# write-only arguments (the SSM parameters' value_wo) Terraform 1.11 and a recent provider.
terraform {
  required_version = ">= 1.11"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 6.8, < 7.0"
    }
  }
}

provider "aws" {
  region = var.region

  default_tags {
    tags = merge(var.tags, { Application = "sendsongs", Stack = var.name_prefix })
  }
}

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}
