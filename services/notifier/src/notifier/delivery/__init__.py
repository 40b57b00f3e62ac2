"""Delivering merchant webhooks: one delivery message → one signed, bounded POST; failures retried on a schedule."""
