"""Tracing, trace-context propagation, JSON logging and EMF metrics, all on the OpenTelemetry API."""
