"""The request log: one entry per AWS request (control-API calls are not logged)."""

from __future__ import annotations

import threading
from typing import Any

from . import state

ENTRIES: list[dict[str, Any]] = []
_SEQ = [0]
_LOCK = threading.Lock()  # not state.LOCK: logging must never wait for a slow request


@state.on_reset
def clear() -> None:
    with _LOCK:
        ENTRIES.clear()


def append(entry: dict[str, Any]) -> None:
    with _LOCK:
        _SEQ[0] += 1
        entry["seq"] = _SEQ[0]
        ENTRIES.append(entry)


def query(filters: dict[str, str]) -> list[dict[str, Any]]:
    with _LOCK:
        entries = list(ENTRIES)
    for key in ("service", "operation", "region", "account"):
        if filters.get(key):
            entries = [e for e in entries if e.get(key) == filters[key]]
    if filters.get("fault") in ("true", "false"):
        want = filters["fault"] == "true"
        entries = [e for e in entries if (e.get("fault") is not None) == want]
    if filters.get("since_seq"):
        entries = [e for e in entries if e["seq"] > int(filters["since_seq"])]
    return entries
