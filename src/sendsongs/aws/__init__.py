"""The AWS Lambda runtime: four handlers over the same service (docs/deploy-aws.md)."""
