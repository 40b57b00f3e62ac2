"""The deliverer's adapters: the contract's DynamoDB tables, in-memory twins for tests, and the HTTP sender."""
