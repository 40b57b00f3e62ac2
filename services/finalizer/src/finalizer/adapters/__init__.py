"""One technology per module: HTTP (PSP), KMS (sealed cards), SSM (the PSP's key), DynamoDB and memory
(payment results)."""
