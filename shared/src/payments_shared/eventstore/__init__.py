from payments_shared.eventstore.port import (
    ConcurrencyConflict,
    DuplicateRecord,
    EventStore,
    ExtraWrite,
    IncrementRecord,
    NewEvent,
    PutRecord,
    Snapshot,
    StoredEvent,
    StreamSlice,
    UpdateRecord,
)

__all__ = [
    "ConcurrencyConflict",
    "DuplicateRecord",
    "EventStore",
    "ExtraWrite",
    "IncrementRecord",
    "NewEvent",
    "PutRecord",
    "Snapshot",
    "StoredEvent",
    "StreamSlice",
    "UpdateRecord",
]
