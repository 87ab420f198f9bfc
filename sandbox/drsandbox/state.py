"""Shared state of the extension: one lock, the clock, durations and the ticker.

Every AWS request and every control call runs under `LOCK`, and so does the ticker that
moves long operations forward. moto itself is not thread-safe, and holding one lock makes
state changes atomic: a client that sees a job COMPLETED also sees what the job created.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from datetime import datetime, timezone

LOCK = threading.RLock()

ACCOUNT = "123456789012"

# --- durations -------------------------------------------------------------------------

# Default ("fast") profile: short enough for tests, long enough that a client sees the
# intermediate states when it polls every 100 ms or so.
FAST: dict[str, float] = {
    "backup_job": 1.0,
    "restore_base": 0.5,
    "restore_per_gib": 0.25,
    "copy_job": 1.0,
    "efs_replication_enable": 0.5,
    "efs_replication_lag": 1.0,
    "efs_replication_delete": 1.0,
    "ecr_replication_lag": 1.0,
    "route53_propagation": 1.0,
    "ecs_rollout": 2.0,
    "arc_cluster_deploy": 0.5,
    "zonal_shift_minute": 1.0,
    "fis_experiment_initiating": 0.2,
    "fis_experiment_run": 1.0,
    "fis_experiment_stop": 0.2,
}

# "realistic" profile, in seconds, before SANDBOX_SCALE is applied. Sources are in
# docs/sandbox.md; where AWS documents no number, the value is an estimate and says so there.
REALISTIC: dict[str, float] = {
    "backup_job": 600.0,  # estimate: an incremental EFS snapshot of a few GiB
    "restore_base": 300.0,  # estimate: fixed overhead of a restore job
    "restore_per_gib": 1073741824 / 100e6,  # EFS doc: ~100 MB/s for large files
    "copy_job": 900.0,  # estimate: cross-region copy of a few GiB
    "efs_replication_enable": 900.0,  # estimate: first sync of a small file system
    "efs_replication_lag": 60.0,  # EFS blog: most changes replicated within a minute
    "efs_replication_delete": 300.0,  # EFS doc: deleting replication "can take several minutes"
    "ecr_replication_lag": 600.0,  # ECR doc: most images replicate in under 30 minutes
    "route53_propagation": 60.0,  # Route 53 FAQ: changes propagate within 60 s
    "ecs_rollout": 300.0,  # ECS: health checks, grace period, draining: 2-10 min
    "arc_cluster_deploy": 300.0,  # estimate: a new ARC cluster PENDING -> DEPLOYED
    "zonal_shift_minute": 60.0,  # one minute of a zonal shift's expiresIn lasts a minute
    "fis_experiment_initiating": 5.0,  # estimate: FIS resolves targets, then runs the actions
    "fis_experiment_run": 300.0,  # estimate: a typical action duration (PT5M)
    "fis_experiment_stop": 5.0,  # estimate: stopping rolls the actions back
}

PROFILES = {"fast": FAST, "realistic": REALISTIC}


def _env_float(name: str) -> float | None:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return None
    return float(raw)


class Durations:
    """Current durations; `reset()` returns to what the environment asked for at start."""

    def __init__(self) -> None:
        self.profile = "fast"
        self.scale = 1.0
        self.values: dict[str, float] = {}
        self.reset()

    def startup_profile(self) -> tuple[str, float]:
        profile = os.environ.get("SANDBOX_PROFILE", "fast") or "fast"
        if profile not in PROFILES:
            raise ValueError(f"unknown SANDBOX_PROFILE {profile!r}: use fast or realistic")
        scale = _env_float("SANDBOX_SCALE")
        return profile, 1.0 if scale is None else scale

    def apply_profile(self, profile: str, scale: float) -> None:
        if profile not in PROFILES:
            raise ValueError(f"unknown profile {profile!r}: use fast or realistic")
        if scale < 0:
            raise ValueError("scale must not be negative")
        self.profile = profile
        self.scale = scale
        self.values = {k: v * scale for k, v in PROFILES[profile].items()}

    def reset(self) -> None:
        profile, scale = self.startup_profile()
        self.apply_profile(profile, scale)
        for key in self.values:
            override = _env_float(f"SANDBOX_DURATION_{key.upper()}")
            if override is not None:
                self.values[key] = override

    def update(self, changes: dict[str, object]) -> None:
        """Applies `profile`/`scale` first, then single durations; all-or-nothing."""
        changes = dict(changes)
        profile = changes.pop("profile", None)
        scale = changes.pop("scale", None)
        unknown = [k for k in changes if k not in FAST]
        if unknown:
            raise ValueError(f"unknown duration(s) {unknown}; known: {sorted(FAST)}")
        for key, value in changes.items():
            if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
                raise ValueError(f"duration {key} must be a number of seconds >= 0")
        if profile is not None or scale is not None:
            self.apply_profile(
                str(profile) if profile is not None else self.profile,
                float(scale) if scale is not None else self.scale,  # type: ignore[arg-type]
            )
        for key, value in changes.items():
            self.values[key] = float(value)  # type: ignore[arg-type]

    def __getitem__(self, key: str) -> float:
        return self.values[key]

    def to_json(self) -> dict[str, object]:
        return {"profile": self.profile, "scale": self.scale, "durations": dict(self.values)}


DURATIONS = Durations()

# --- clock helpers ---------------------------------------------------------------------


def now() -> float:
    return time.time()


def to_datetime(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, tz=timezone.utc)


def rfc3339(epoch: float) -> str:
    return to_datetime(epoch).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_rfc3339(text: str) -> float:
    value = text.strip()
    if value.endswith("Z") or value.endswith("z"):
        value = value[:-1] + "+00:00"
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError(f"time {text!r} has no UTC offset")
    return parsed.timestamp()


# --- reset hooks and the ticker ----------------------------------------------------------

_RESET_HOOKS: list[Callable[[], None]] = []
_TICKERS: list[Callable[[float], None]] = []


def on_reset(fn: Callable[[], None]) -> Callable[[], None]:
    _RESET_HOOKS.append(fn)
    return fn


def on_tick(fn: Callable[[float], None]) -> Callable[[float], None]:
    _TICKERS.append(fn)
    return fn


def reset_extension_state() -> None:
    for hook in _RESET_HOOKS:
        hook()


def tick() -> None:
    """Moves every long operation forward to the current time (under the lock)."""
    with LOCK:
        moment = now()
        for fn in _TICKERS:
            fn(moment)


def start_ticker(interval: float = 0.05) -> threading.Thread:
    def loop() -> None:
        while True:
            time.sleep(interval)
            try:
                tick()
            except Exception:  # a bug in one ticker must not stop time for the others
                import traceback

                traceback.print_exc()

    thread = threading.Thread(target=loop, name="sandbox-ticker", daemon=True)
    thread.start()
    return thread


def progress(start: float, duration: float, moment: float) -> float:
    """Fraction done in [0, 1]."""
    if duration <= 0:
        return 1.0
    return max(0.0, min(1.0, (moment - start) / duration))
