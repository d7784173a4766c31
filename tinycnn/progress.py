"""A Keras-like progress bar: ``12/57 [=====>........] - ETA: 3s - loss: 0.5312``."""
from __future__ import annotations

import sys
import time
from typing import Dict, Optional


def _format_logs(logs: Dict[str, float]) -> str:
    return "".join(f" - {key}: {value:.4f}" for key, value in logs.items())


class ProgressBar:
    """Draws progress through ``total`` steps on one line (redrawn with ``\\r``).

    ``verbose=1``: the bar, redrawn at most every 0.1 s; ``verbose=2``: one line at the end;
    ``verbose=0``: nothing.
    """

    def __init__(self, total: Optional[int], verbose: int = 1, width: int = 30, stream=None) -> None:
        self.total, self.verbose, self.width = total, verbose, width
        self.stream = stream or sys.stdout
        self.start = time.time()
        self._last_draw = 0.0

    def update(self, step: int, logs: Dict[str, float], final: bool = False) -> None:
        if self.verbose == 0 or (self.verbose == 2 and not final):
            return
        now = time.time()
        if not final and now - self._last_draw < 0.1:
            return
        self._last_draw = now
        elapsed = now - self.start
        if self.verbose == 2:
            line = f"{step}/{step} - {elapsed:.0f}s{_format_logs(logs)}\n"
        else:
            total = self.total or step
            done = int(self.width * step / total) if total else self.width
            bar = "=" * max(done - 1, 0) + (">" if step < total else "=") + "." * (self.width - done)
            digits = len(str(total))
            if final:
                timing = f"{elapsed:.0f}s {1000 * elapsed / max(step, 1):.0f}ms/step"
            else:
                timing = f"ETA: {elapsed / max(step, 1) * (total - step):.0f}s"
            text = f"{step:>{digits}}/{total} [{bar}] - {timing}{_format_logs(logs)}"
            # pad with spaces so a shorter redraw fully covers the previous one
            line = "\r" + text.ljust(getattr(self, "_width_drawn", 0))
            self._width_drawn = len(text)
            if final:
                line += "\n"
        self.stream.write(line)
        self.stream.flush()
