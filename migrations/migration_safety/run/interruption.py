"""Ctrl-C and SIGTERM during a run: the same failure path as an error while the wrapper may still
stop (backup, migration), and noted but not obeyed while stopping would leave the database half
restored. Kept apart from Alembic: the backup and the restore use it too."""
from __future__ import annotations

import contextlib
import signal
import threading
from typing import Iterator, Optional


class Interruption:
    """Turns SIGINT/SIGTERM into KeyboardInterrupt and remembers which arrived. With psycopg2's
    ``wait_select`` callback a statement blocked in the server is cancelled instead of waiting."""

    def __init__(self) -> None:
        self.signal_name: Optional[str] = None

    def _handler(self, signum, frame):
        self.signal_name = signal.Signals(signum).name
        raise KeyboardInterrupt

    @contextlib.contextmanager
    def catching(self) -> Iterator["Interruption"]:
        if threading.current_thread() is not threading.main_thread():
            yield self
            return
        import psycopg2.extensions
        import psycopg2.extras

        previous = {sig: signal.signal(sig, self._handler) for sig in (signal.SIGINT, signal.SIGTERM)}
        previous_wait = psycopg2.extensions.get_wait_callback()
        psycopg2.extensions.set_wait_callback(psycopg2.extras.wait_select)
        try:
            yield self
        finally:
            psycopg2.extensions.set_wait_callback(previous_wait)
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    @staticmethod
    @contextlib.contextmanager
    def deferred(note) -> Iterator[None]:
        """While a restore runs, a signal must not abandon it halfway: note it and go on."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = {sig: signal.signal(sig, lambda s, f: note(signal.Signals(s).name))
                    for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
