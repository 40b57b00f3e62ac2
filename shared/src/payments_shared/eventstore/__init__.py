from payments_shared.eventstore.port import (
    ConcurrencyConflict,
    DuplicateRecord,
    EventStore,
    NewEvent,
    Snapshot,
    StoredEvent,
    StoreRejected,
    StoreUnavailable,
    StreamsExist,
    StreamSlice,
    ViewChange,
)

__all__ = [
    "ConcurrencyConflict",
    "DuplicateRecord",
    "EventStore",
    "NewEvent",
    "Snapshot",
    "StoredEvent",
    "StoreRejected",
    "StoreUnavailable",
    "StreamsExist",
    "StreamSlice",
    "ViewChange",
]
