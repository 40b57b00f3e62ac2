"""Finalizer: charges initiated payments through the PSP, exactly once."""
