"""Development reload: which *.py files changed under the watched directories.

A thread watches, with `watchfiles` when it is installed (inotify, through its Rust core), else by
comparing modification times every POLL_INTERVAL seconds; the changes pile up until the supervisor
takes them (`changes()`), and each one wakes it (the `wake` given to `start()`). The supervisor
restarts the workers: a fresh interpreter imports the new code.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import threading
from collections.abc import Callable, Iterator

logger = logging.getLogger("fasterapi.reload")

POLL_INTERVAL = 0.5  # seconds between two scans without watchfiles: an edit shows within a second
# Directories never worth watching: caches, version control, environments, build trees.
SKIPPED_DIRS = frozenset(
    {"__pycache__", ".git", ".hg", ".svn", ".tox", ".nox", ".venv", "venv", "node_modules"}
)


def python_files(dirs: list[str]) -> Iterator[str]:
    for root in dirs:
        for path, subdirs, files in os.walk(root):
            subdirs[:] = [d for d in subdirs if d not in SKIPPED_DIRS and not d.startswith(".")]
            for name in files:
                if name.endswith(".py"):
                    yield os.path.join(path, name)


class Reloader:
    def __init__(self, dirs: list[str]) -> None:
        self.dirs = [os.path.abspath(d) for d in dirs]
        self._changed: dict[str, None] = {}  # ordered, no repeats
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, wake: Callable[[], None]) -> None:
        """Starts the watching thread; `wake` is called (from it) after each batch of changes."""
        run: Callable[[], None]
        if _has_watchfiles():
            run, how = (lambda: self._watch(wake)), "watchfiles"
        else:
            snapshot = self._snapshot()  # taken now: an edit made from here on is seen
            run, how = (lambda: self._poll(wake, snapshot)), "polling"
        self._thread = threading.Thread(target=run, name="fasterapi-reload", daemon=True)
        self._thread.start()
        logger.info("Will watch for changes in %s (%s)", ", ".join(self.dirs), how)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2 * POLL_INTERVAL)

    def changes(self) -> list[str]:
        """The files changed since the last call, oldest first."""
        with self._lock:
            changed, self._changed = list(self._changed), {}
        return changed

    def _record(self, paths: list[str], wake: Callable[[], None]) -> None:
        if paths:
            with self._lock:
                self._changed.update(dict.fromkeys(sorted(paths)))
            wake()

    # ---- the two ways of watching

    def _snapshot(self) -> dict[str, float]:
        mtimes = {}
        for path in python_files(self.dirs):
            try:
                mtimes[path] = os.stat(path).st_mtime
            except OSError:  # removed while walking
                continue
        return mtimes

    def _poll(self, wake: Callable[[], None], previous: dict[str, float]) -> None:
        while not self._stop.wait(POLL_INTERVAL):
            current = self._snapshot()
            changed = [p for p, mtime in current.items() if previous.get(p) != mtime]
            changed += [p for p in previous if p not in current]  # removed
            previous = current
            self._record(changed, wake)

    def _watch(self, wake: Callable[[], None]) -> None:
        import watchfiles  # type: ignore[import-not-found, unused-ignore]  # noqa: PLC0415  (optional)

        def watched(change: object, path: str) -> bool:
            if not path.endswith(".py"):
                return False
            for root in self.dirs:
                rel = os.path.relpath(path, root)
                if not rel.startswith(".."):
                    return not any(d in SKIPPED_DIRS or d.startswith(".") for d in rel.split(os.sep)[:-1])
            return False

        for batch in watchfiles.watch(*self.dirs, watch_filter=watched, stop_event=self._stop):
            self._record([path for _, path in batch], wake)


def _has_watchfiles() -> bool:
    return importlib.util.find_spec("watchfiles") is not None
