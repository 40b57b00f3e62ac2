"""One technology per module: DynamoDB, in memory."""
