from payments_shared.eventstore.port import (
    ConcurrencyConflict,
    DuplicateRecord,
    EventStore,
    NewEvent,
    PutRecord,
    Snapshot,
    StoredEvent,
    StreamSlice,
)

__all__ = [
    "ConcurrencyConflict",
    "DuplicateRecord",
    "EventStore",
    "NewEvent",
    "PutRecord",
    "Snapshot",
    "StoredEvent",
    "StreamSlice",
]
