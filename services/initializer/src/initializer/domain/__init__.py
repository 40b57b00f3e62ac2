"""The payment order domain: pure Python + pydantic, no I/O."""
