# Terraform and provider versions. S3 native state locking (use_lockfile) needs Terraform 1.10.
terraform {
  required_version = ">= 1.10"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.80, < 7.0"
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
