"""The events bench's worker: one call that emits an event and the same call that does not.

Both run on the event loop (blocking=False) so the thread hand-off does not hide the event's cost.
"""

from __future__ import annotations

from bridge import Worker

worker = Worker()
saved = worker.hook("bench.saved", provides=["name"], help="The events bench saved a name.")


@worker.procedure(name="bench.save", blocking=False)
def save(name: str) -> str:
    """Return `name` and emit bench.saved with it."""
    saved.emit({"name": name})
    return name


@worker.procedure(name="bench.save_quiet", blocking=False)
def save_quiet(name: str) -> str:
    """Return `name`, emitting nothing: bench.save without its event."""
    return name
