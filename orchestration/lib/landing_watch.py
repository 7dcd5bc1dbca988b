"""What is new in the landing folder, for the landing sensor: typed, pure, testable.

A file is new when its (path, size, modification time) has not been requested before and
its content is not in the loader's manifest already (the files a CLI run or an earlier
build loaded, before the sensor was switched on). A file still being written is not
picked up: it must be older than ``settle_seconds`` and have the size it had at the
previous look (an upload that is still growing changes size between two ticks).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from ingestion.formats import file_format
from ingestion.loader import file_checksum

Fingerprint = tuple[int, int]  # size in bytes, modification time in ns


@dataclass
class WatchState:
    """The sensor's cursor: files already requested, and sizes seen at the last tick."""

    requested: dict[str, Fingerprint] = field(default_factory=dict)
    last_seen: dict[str, Fingerprint] = field(default_factory=dict)

    def dumps(self) -> str:
        return json.dumps({"requested": self.requested, "last_seen": self.last_seen})

    @classmethod
    def loads(cls, cursor: str | None) -> WatchState:
        if not cursor:
            return cls()
        data = json.loads(cursor)
        return cls(
            {k: tuple(v) for k, v in data.get("requested", {}).items()},
            {k: tuple(v) for k, v in data.get("last_seen", {}).items()},
        )


def landed_files(landing: Path) -> dict[str, Fingerprint]:
    """Every file the loader would read: ``<source>/<entity>/...`` with a known format."""
    if not landing.is_dir():
        return {}
    found = {}
    for path in landing.rglob("*"):
        relative = path.relative_to(landing)
        if (
            path.is_file()
            and len(relative.parts) >= 3
            and not any(part.startswith((".", "_")) for part in relative.parts)
            and file_format(path)
        ):
            stat = path.stat()
            found[relative.as_posix()] = (stat.st_size, stat.st_mtime_ns)
    return found


@dataclass(frozen=True)
class Decision:
    new_files: list[str]
    waiting: list[str]  # landed but not settled yet
    state: WatchState

    @property
    def run_key(self) -> str:
        digest = hashlib.sha256(
            json.dumps({f: self.state.requested[f] for f in self.new_files}).encode()
        )
        return digest.hexdigest()[:16]


def decide(
    files: dict[str, Fingerprint], state: WatchState, now_ns: int, settle_seconds: float
) -> Decision:
    """Which settled files are new since the last request, and the next cursor."""
    settled, waiting = [], []
    for name, fingerprint in sorted(files.items()):
        if state.requested.get(name) == fingerprint:
            continue
        old_enough = now_ns - fingerprint[1] >= settle_seconds * 1e9
        stable = state.last_seen.get(name, (None, None))[0] == fingerprint[0]
        (settled if old_enough and stable else waiting).append(name)
    requested = dict(state.requested) | {name: files[name] for name in settled}
    return Decision(settled, waiting, WatchState(requested, dict(files)))


@dataclass(frozen=True)
class LoadedFiles:
    """What the loader has recorded (``ingest.load_manifest``): each file name's latest
    content, and every content under any name."""

    latest: dict[str, str]
    contents: frozenset[str]

    def holds(self, name: str, checksum: str | None) -> bool:
        """Whether loading ``name`` with this content would do nothing, as the loader
        decides it: its latest version unchanged, or a file never seen under this name
        whose content came under another (``ingestion.loader.load_file``)."""
        if name in self.latest:
            return self.latest[name] == checksum
        return checksum in self.contents


def not_loaded_yet(files: list[str], landing: Path, loaded: LoadedFiles | None) -> list[str]:
    """The files the loader would load; all of them when the manifest cannot be read
    (``None``: no warehouse yet, or a run is writing it, and the run the sensor starts
    then finds out itself)."""
    if loaded is None:
        return files
    return [f for f in files if not loaded.holds(f, _checksum(landing / f))]


def _checksum(path: Path) -> str | None:
    try:
        return file_checksum(path)
    except OSError:  # gone since it was listed: the run it would start finds out
        return None
