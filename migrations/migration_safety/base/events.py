"""What a long operation tells the person watching. The CLI supplies a rich or plain one; the
engine modules only call it. Kept apart so rendering never imports the engine."""
from __future__ import annotations

import contextlib
from typing import Callable, Iterator, Optional


class Events:
    def step(self, text: str) -> None:
        pass

    def warn(self, text: str) -> None:
        pass

    @contextlib.contextmanager
    def progress(self, label: str, total: Optional[int]) -> Iterator[Callable[[int, Optional[int]], None]]:
        yield lambda done, total=None: None
