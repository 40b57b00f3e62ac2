"""A scriptable fake payment service provider on loopback, for tests and the local stack."""

from fake_psp.server import FakePsp

__all__ = ["FakePsp"]
