"""The common wiring of Lambda entry points, built on Powertools, one module per kind of trigger.

Each entry point gets: Powertools Logger context (cold_start, request id), EMF metrics flushed per
invocation, a root span (SERVER for HTTP, CONSUMER for events) whose status reflects the outcome, and
error mapping: a client error never becomes a 5xx, an unexpected one never leaks a stack trace. A function
imports only the module of its own trigger, so a queue consumer never loads the HTTP resolver.
"""
