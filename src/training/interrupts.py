"""SIGTERM ends a run like Ctrl-C does: plugins see it, files close with status `interrupted`."""
import signal
import threading
from contextlib import contextmanager
from typing import Iterator


class RunInterrupted(Exception):
    """Raised in the training loop when the process receives SIGTERM."""


def _raise_interrupted(signum: int, frame: object) -> None:
    raise RunInterrupted(f"received {signal.Signals(signum).name}")


@contextmanager
def sigterm_interrupts() -> Iterator[None]:
    """Within the block, SIGTERM raises `RunInterrupted` (main thread only; elsewhere a no-op)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise_interrupted)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
