"""The payment outcome domain: pure Python + pydantic, no I/O."""
