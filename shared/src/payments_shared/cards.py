"""Card-number arithmetic shared by validation (initializer) and redaction (logs)."""

from __future__ import annotations


def luhn_valid(digits: str) -> bool:
    """The Luhn (mod 10) check every card number passes; digits only."""
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = ord(char) - 48
        if index % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0
