"""The program exits quietly when the language host interrupts it (the engine cancelled the update)."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from infra.program import EXIT_CANCELLED

ROOT = Path(__file__).resolve().parents[2]

BLOCKED = textwrap.dedent("""
    import sys, threading
    from infra.program import quiet_on_cancel
    if sys.argv[1] == "quiet":
        quiet_on_cancel()
    print("ready", flush=True)
    threading.Event().wait(30)  # like the SDK waiting on an engine that is gone
""")


def _interrupt(mode: str) -> subprocess.CompletedProcess[str]:
    proc = subprocess.Popen([sys.executable, "-c", BLOCKED, mode], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    time.sleep(0.1)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=20)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def test_sigint_ends_the_program_without_a_traceback() -> None:
    done = _interrupt("quiet")
    assert done.returncode == EXIT_CANCELLED
    assert "Traceback" not in done.stderr and "KeyboardInterrupt" not in done.stderr, done.stderr


def test_without_it_python_prints_the_traceback_the_stack_showed() -> None:
    done = _interrupt("plain")
    assert "KeyboardInterrupt" in done.stderr
