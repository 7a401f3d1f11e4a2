"""The repository's language host leaves when its engine is gone (a killed `pulumi` CLI stops no plugin)."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HOST = ROOT / "scripts" / "langhost" / "pulumi-language-python"


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # closed again when the block ends: nothing listens there


def test_the_host_exits_when_nothing_listens_at_the_engine_address() -> None:
    proc = subprocess.run([sys.executable, str(HOST), f"127.0.0.1:{_closed_port()}"], capture_output=True,
                          text=True, timeout=120, check=False)  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout.strip().isdigit()  # it had served: the port it listened on, as the engine reads it
    assert "is gone; stopping" in proc.stderr


def test_the_host_stays_while_the_engine_listens() -> None:
    with socket.socket() as engine:
        engine.bind(("127.0.0.1", 0))
        engine.listen()
        port = engine.getsockname()[1]
        proc = subprocess.Popen([sys.executable, str(HOST), f"127.0.0.1:{port}"], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)  # fmt: skip
        try:
            try:
                proc.wait(timeout=10)  # more than three checks (2 s apart)
            except subprocess.TimeoutExpired:
                pass
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        finally:
            proc.terminate()
            proc.wait(timeout=30)
