"""A spool of call ends the database could not take (down, locked, disk full), replayed later.

One small JSON file per entry, written to a temporary name, fsynced, then renamed: a crash leaves either
a whole entry or none. A file that does not parse is moved aside to `bad/` (and logged) rather than
blocking the ones behind it.
"""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from pathlib import Path
from typing import Any

import structlog

log = structlog.get_logger(__name__)


class FileJournal:
    def __init__(self, directory: Path) -> None:
        self._dir = directory

    async def append(self, kind: str, payload: dict[str, Any]) -> str:
        return await asyncio.to_thread(self._append, kind, payload)

    def _append(self, kind: str, payload: dict[str, Any]) -> str:
        self._dir.mkdir(parents=True, exist_ok=True)
        key = f"{uuid.uuid1().hex}.json"  # uuid1 sorts by time: replay keeps arrival order
        tmp = self._dir / f".{key}.tmp"
        data = json.dumps({"kind": kind, "payload": payload}, ensure_ascii=False).encode()
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, self._dir / key)
        dir_fd = os.open(self._dir, os.O_RDONLY)
        try:
            os.fsync(dir_fd)  # the rename itself must survive a power cut
        finally:
            os.close(dir_fd)
        return key

    async def pending(self) -> list[tuple[str, str, dict[str, Any]]]:
        """(key, kind, payload) in arrival order; malformed entries are moved to bad/."""
        return await asyncio.to_thread(self._pending)

    def _pending(self) -> list[tuple[str, str, dict[str, Any]]]:
        if not self._dir.is_dir():
            return []
        entries: list[tuple[str, str, dict[str, Any]]] = []
        for path in sorted(self._dir.glob("*.json"), key=lambda p: p.name):
            try:
                record = json.loads(path.read_text(encoding="utf-8"))
                kind, payload = record["kind"], record["payload"]
                if not isinstance(kind, str) or not isinstance(payload, dict):
                    raise ValueError("kind must be text and payload an object")
            except (OSError, ValueError, KeyError, TypeError) as exc:
                bad = self._dir / "bad"
                bad.mkdir(exist_ok=True)
                os.replace(path, bad / path.name)
                log.error("journal.entry_malformed", entry=path.name, error=str(exc)[:200])
                continue
            entries.append((path.name, kind, payload))
        return entries

    async def remove(self, key: str) -> None:
        await asyncio.to_thread((self._dir / key).unlink, True)
