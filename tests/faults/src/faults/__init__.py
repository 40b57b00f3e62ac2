"""The fault run: everything that can go wrong, at once, and nothing lost."""
