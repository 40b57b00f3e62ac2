"""One technology per module: DynamoDB."""
