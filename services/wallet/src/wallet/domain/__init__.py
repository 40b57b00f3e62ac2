"""The Wallet aggregate: pure Python, no I/O."""
