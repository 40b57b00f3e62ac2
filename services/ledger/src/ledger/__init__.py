"""Ledger: double-entry journal of successful payments."""
