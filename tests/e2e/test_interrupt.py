"""Ctrl-C during apply, typed into a real terminal (a pty the tool has as its controlling
terminal): the first is acknowledged at once, running actions finish, nothing new starts,
and the usual summary says what was done and what was not; a second stops at once with no
"HTTP transport has already been closed" failures; a rerun converges either way."""

from __future__ import annotations

import fcntl
import os
import select
import struct
import subprocess
import termios
import time
from pathlib import Path

import pytest

from acr_sandbox.testing import SandboxHandle
from tests.e2e.pipeline_support import WALKTHROUGH, run_tool, tool, user_env
from tests.e2e.plan_apply_support import ROOT, push_source_image

pytestmark = pytest.mark.e2e
SLOW_WRITES = {  # every ARM write takes a while, so a Ctrl-C lands mid-action
    "method": "PUT|PATCH|DELETE|POST",
    "path": r"^/subscriptions/(?!.*checkNameAvailability)",
    "latencyMs": 1500,
}
CTRL_C = b"\x03"


class Terminal:
    """The tool in a pty of 200 columns, its foreground process group, as in a shell."""

    def __init__(self, env: dict[str, str], *args: str | Path) -> None:
        self.master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 200, 0, 0))

        def controlling_terminal() -> None:
            os.setsid()
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)

        self.process = subprocess.Popen(
            tool(*args),
            env=env,
            stdin=slave,
            stdout=slave,
            stderr=slave,
            cwd=ROOT,
            preexec_fn=controlling_terminal,
        )
        os.close(slave)
        self.output = b""

    def read_until(self, needle: str, timeout: float = 120) -> bool:
        deadline = time.monotonic() + timeout
        while needle not in self.text and time.monotonic() < deadline:
            ready, _, _ = select.select([self.master], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(self.master, 65536)
                except OSError:  # the child closed the terminal
                    break
                if not chunk:
                    break
                self.output += chunk
        return needle in self.text

    @property
    def text(self) -> str:
        return " ".join(self.output.decode(errors="replace").split())

    def type(self, data: bytes) -> None:
        os.write(self.master, data)

    def finish(self, timeout: float = 120) -> int:
        code = self.process.wait(timeout=timeout)
        self.read_until("\0", timeout=1)  # drain
        os.close(self.master)
        return code


@pytest.fixture
def pipeline(sandbox: SandboxHandle, tmp_path: Path) -> tuple[dict[str, str], Path]:
    sandbox.reset_state()
    sandbox.settings(dct="legacy", replication_lag=0.0)
    source = push_source_image(sandbox)
    spec = tmp_path / "walkthrough.yaml"
    spec.write_text(WALKTHROUGH.read_text().replace("docker.io/library/hello-world:latest", source))
    env = user_env(sandbox, tmp_path)
    env.pop("NO_COLOR", None)
    return env, spec


def _first_write_in_flight(terminal: Terminal) -> None:
    assert terminal.read_until(": creating"), terminal.text  # a unit started (live view)


def test_first_ctrl_c_finishes_running_actions_and_reports(
    sandbox: SandboxHandle, pipeline: tuple[dict[str, str], Path]
) -> None:
    env, spec = pipeline
    sandbox.set_faults([SLOW_WRITES])
    terminal = Terminal(env, "apply", spec, "--auto-approve", "--parallelism", "1")
    _first_write_in_flight(terminal)
    terminal.type(CTRL_C)
    assert terminal.read_until(
        "Interrupt received: finishing 1 running action(s), starting no new ones", timeout=5
    ), terminal.text
    code = terminal.finish()
    sandbox.clear_faults()
    assert code == 130, terminal.text
    text = terminal.text
    assert "done" in text and "Interrupted:" in text and "not started" in text
    assert "Traceback" not in text and "transport has already been closed" not in text
    again = run_tool(env, "apply", spec, "--auto-approve")
    assert again.code == 0, again.out + again.err
    assert run_tool(env, "plan", spec, "--detailed-exitcode").code == 0


def test_second_ctrl_c_stops_at_once_and_a_rerun_converges(
    sandbox: SandboxHandle, pipeline: tuple[dict[str, str], Path]
) -> None:
    env, spec = pipeline
    sandbox.set_faults([SLOW_WRITES | {"latencyMs": 20000}])  # a write that would hold
    terminal = Terminal(env, "apply", spec, "--auto-approve", "--parallelism", "1")
    _first_write_in_flight(terminal)
    terminal.type(CTRL_C)
    assert terminal.read_until("Interrupt received", timeout=5), terminal.text
    terminal.type(CTRL_C)
    assert terminal.read_until("Second interrupt: stopping at once", timeout=5), terminal.text
    code = terminal.finish(timeout=10)  # long before the held write would have answered
    sandbox.clear_faults()
    assert code == 130, terminal.text
    assert "Traceback" not in terminal.text
    assert "transport has already been closed" not in terminal.text
    again = run_tool(env, "apply", spec, "--auto-approve")
    assert again.code == 0, again.out + again.err
    assert run_tool(env, "plan", spec, "--detailed-exitcode").code == 0
