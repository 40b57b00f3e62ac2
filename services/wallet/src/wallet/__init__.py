"""Wallet: merchant balances credited by successful payments."""
