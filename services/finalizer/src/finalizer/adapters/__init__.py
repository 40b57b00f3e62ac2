"""One technology per module: HTTP (PSP), DynamoDB."""
