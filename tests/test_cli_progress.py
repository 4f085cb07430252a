"""Progress of long commands: drawn on stderr when it is a terminal, never on stdout (which may
carry JSON), and not at all with ``--quiet`` or when stderr is a pipe."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys

import pytest


def _run_with_terminal_stderr(*argv: str) -> tuple[int, str, str]:
    """Run ``neurochip argv`` with stderr on a pseudo-terminal and stdout on a pipe."""
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "neurochip", *argv], stdout=subprocess.PIPE, stderr=slave,
                            env={**os.environ, "COLUMNS": "120", "TERM": "xterm"})
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 4096)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    out = proc.stdout.read().decode()
    proc.wait(timeout=120)
    os.close(master)
    return proc.returncode, out, b"".join(chunks).decode(errors="replace")


ARGV = ("lif", "convert", "--samples", "2", "--duration", "300ms", "--json")


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pseudo-terminal (POSIX)")
def test_progress_goes_to_a_terminal_stderr_and_json_stays_clean():
    code, out, err = _run_with_terminal_stderr(*ARGV)
    assert code == 0, err
    assert "training, converting and emulating" in err  # the spinner's label, on stderr
    assert "2 samples" in err  # and the size of the work
    assert json.loads(out)["lif"]["error"] >= 0  # stdout is pure JSON


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pseudo-terminal (POSIX)")
def test_quiet_and_a_piped_stderr_show_no_progress():
    code, out, err = _run_with_terminal_stderr("--quiet", *ARGV)
    assert code == 0 and err.strip() == ""
    json.loads(out)
    done = subprocess.run([sys.executable, "-m", "neurochip", *ARGV], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stderr == ""
