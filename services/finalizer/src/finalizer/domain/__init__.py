"""The payment outcome domain: pure Python, no I/O, no wire contract."""
