"""Initializer: accepts, validates, encrypts and records payment orders."""
