"""The shared kernel every payments service imports: value objects, events, event store, observability."""
