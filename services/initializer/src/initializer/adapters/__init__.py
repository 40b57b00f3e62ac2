"""One technology per module: KMS, DynamoDB."""
