"""payments-ops: the operator's tool for an event-sourced payments system (local stack or AWS alike)."""
