"""Double-entry bookkeeping: pure Python, no I/O."""
