"""The functions run in worker processes, one per function, like one warm Lambda container each.

Why processes: the runner sets each function's environment in `os.environ` for the length of a call,
and `os.environ` belongs to the whole process. With one worker process per function, a notify call that
waits for a slow webhook never holds up a submission, and no two calls ever share an environment. A
worker takes one call at a time (as a Lambda container does), keeps its imports and clients between
calls, and starts on the first call with the environment the local API had when it started (the
embedded S3's endpoint and fake credentials). Its stdout and stderr (Powertools' JSON log lines, Python
warnings) go to the function log file when there is one (`make api`: the file it names at start), so the
terminal keeps only the local API's own lines; without one, stdout goes to stderr, never to the one JSON
line the local API prints on stdout.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tools.local_invoke import EnvOverrides, invoke


class FunctionError(Exception):
    """The function raised; the message is `ErrorType: message`, as Lambda reports it."""


@dataclass(frozen=True)
class _Call:
    logical_id: str
    event: Any
    env_overrides: EnvOverrides | None
    template_path: Path
    parameter_overrides: Mapping[str, str] | None


# How often a worker checks that the local API that started it is still there.
PARENT_CHECK_SECONDS = 0.5
# How long a worker told to stop (SIGTERM) may take before it is killed.
TERMINATE_GRACE_SECONDS = 5.0


def _start_worker(environment: Mapping[str, str], sys_path: list[str], log_path: str | None) -> None:
    """Runs once in each new worker: the local API's environment, its import path, its output to the
    function log (else stdout to stderr); Ctrl-C is the local API's to handle (it stops the workers); a
    worker whose local API is gone (killed outright, so it could not stop them) ends itself instead of
    living on as an orphan."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), name="parent-watch", daemon=True).start()
    os.environ.clear()
    os.environ.update(environment)
    sys.path[:] = sys_path
    sys.stdout.flush()
    sys.stderr.flush()
    if log_path is None:
        os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
        return
    log = os.open(log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    os.dup2(log, sys.stdout.fileno())
    os.dup2(log, sys.stderr.fileno())
    os.close(log)


def _exit_with_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(PARENT_CHECK_SECONDS)
    os._exit(1)


def _run_call(call: _Call) -> tuple[bool, Any]:
    """In the worker: (True, result) or (False, "ErrorType: message"); never raises, so nothing that
    cannot be pickled ever crosses back."""
    try:
        result = invoke(
            call.logical_id,
            call.event,
            call.env_overrides,
            template_path=call.template_path,
            parameter_overrides=call.parameter_overrides,
        )
    except Exception as error:  # reported the way Lambda reports an unhandled error
        return False, f"{type(error).__name__}: {error}"
    return True, result


class FunctionWorkers:
    """One worker process per function logical id, started on its first call."""

    def __init__(
        self,
        template_path: Path,
        parameter_overrides: Mapping[str, str] | None,
        log_path: Path | None = None,
    ) -> None:
        self._template_path = template_path
        self._parameter_overrides = parameter_overrides
        self._log_path = None if log_path is None else str(log_path)
        self._pools: dict[str, ProcessPoolExecutor] = {}
        self._lock = threading.Lock()  # guards the dict only, never a call
        self._stopped = False
        self._context = multiprocessing.get_context("spawn")  # no fork of a process that runs threads

    def _pool(self, logical_id: str) -> ProcessPoolExecutor:
        with self._lock:
            if self._stopped:
                raise FunctionError("StoppedError: the local API is stopping")
            pool = self._pools.get(logical_id)
            if pool is None:
                pool = ProcessPoolExecutor(
                    max_workers=1,
                    mp_context=self._context,
                    initializer=_start_worker,
                    initargs=(dict(os.environ), list(sys.path), self._log_path),
                )
                self._pools[logical_id] = pool
            return pool

    def call(self, logical_id: str, event: Any, env_overrides: EnvOverrides | None) -> Any:
        """The function's result; `FunctionError` when it raised (or its worker died)."""
        request = _Call(logical_id, event, env_overrides, self._template_path, self._parameter_overrides)
        pool = self._pool(logical_id)
        try:
            ok, value = pool.submit(_run_call, request).result()
        except Exception as error:  # the worker process died or could not start
            raise FunctionError(f"{type(error).__name__}: {error}") from None
        if not ok:
            raise FunctionError(value)
        return value

    def stop(self) -> None:
        """End every worker now, as Lambda tears a container down: a call still running is cut off (its
        caller gets `FunctionError`), and no new worker starts afterwards."""
        with self._lock:
            self._stopped = True
            pools, self._pools = list(self._pools.values()), {}
        for pool in pools:
            # The executor's own processes: it has no public way to end a running call before 3.14.
            processes = list((getattr(pool, "_processes", None) or {}).values())
            pool.shutdown(wait=False, cancel_futures=True)
            for process in processes:
                process.terminate()
            for process in processes:
                process.join(TERMINATE_GRACE_SECONDS)
                if process.is_alive():
                    process.kill()
                    process.join(TERMINATE_GRACE_SECONDS)
