"""Real `callcenter` processes for the tests: each with its own settings file and log, none of the
environment's CALLCENTER_* variables, and always stopped (SIGTERM, then SIGKILL)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class CallcenterProcess:
    """`callcenter --config CONFIG <command...>` in its own process, its output (JSON logs) in `log`."""

    def __init__(self, name: str, config: Path, command: Sequence[str], log: Path) -> None:
        self.name = name
        self.config = config
        self.command = list(command)
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = {k: val for k, val in os.environ.items() if not k.startswith("CALLCENTER_")}
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    "from callcenter.cli import main; raise SystemExit(main())",
                    "--config",
                    str(self.config),
                    *self.command,
                ],
                cwd=REPO,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def check_alive(self) -> None:
        assert self.proc is not None and self.proc.poll() is None, (
            f"{self.name} exited ({self.proc and self.proc.returncode}):\n{self.tail()}"
        )

    def tail(self, lines: int = 40) -> str:
        text = self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def events(self) -> list[dict[str, Any]]:
        """The JSON log lines written so far (anything else, a traceback's lines, left out)."""
        found = []
        for line in self.log.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("{"):
                try:
                    found.append(json.loads(line))
                except json.JSONDecodeError:
                    continue
        return found

    def stop(self, timeout_s: float = 10.0) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.kill()

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)
