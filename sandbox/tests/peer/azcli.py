"""The real az CLI, run as a user runs it against a custom cloud: its own config dir,
the sandbox registered with ``az cloud register`` from the sandbox's metadata endpoint,
``az login --service-principal``, and the sandbox CA through ``REQUESTS_CA_BUNDLE``.

The CLI comes from the test-only venv ``make az-cli`` builds (``.venv-az``, pinned by
``requirements-az.lock``); ``ACR_SANDBOX_AZ_CLI`` names another executable.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[3]
DEFAULT_AZ = REPO / ".venv-az" / "bin" / "az"
CLOUD = "AcrSandbox"
TIMEOUT_SECONDS = 180.0


def az_executable() -> Path:
    return Path(os.environ.get("ACR_SANDBOX_AZ_CLI") or DEFAULT_AZ)


@dataclass(frozen=True)
class AzResult:
    returncode: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout) if self.stdout.strip() else None


class AzFailed(AssertionError):
    """An az command that was expected to succeed did not (stderr attached, never argv:
    the login command carries a client secret)."""


class AzCli:
    def __init__(self, executable: Path, config_dir: Path, ca_bundle: str) -> None:
        self.executable = executable
        self.config_dir = config_dir
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(config_dir),
            "LANG": "C.UTF-8",
            "AZURE_CONFIG_DIR": str(config_dir),
            "REQUESTS_CA_BUNDLE": ca_bundle,
            "SSL_CERT_FILE": ca_bundle,
        }

    def run(self, *args: str, check: bool = True) -> AzResult:
        __tracebackhide__ = True  # a failure report must not print argv (a secret may be in it)
        completed = subprocess.run(
            [str(self.executable), *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=TIMEOUT_SECONDS,
            check=False,
        )
        result = AzResult(completed.returncode, completed.stdout, completed.stderr)
        if check and result.returncode != 0:
            raise AzFailed(
                f"az {args[0]} {args[1] if len(args) > 1 else ''} failed:\n{result.stderr}"
            )
        return result

    def json(self, *args: str) -> Any:
        return self.run(*args, "--output", "json").json()

    def fails(self, *args: str) -> AzResult:
        """Run a command that must fail the way the CLI reports a server's refusal:
        exit code 1 and an ``ERROR:`` line, never an unexpected-error traceback."""
        result = self.run(*args, check=False)
        assert result.returncode == 1, (result.returncode, result.stderr)
        assert "ERROR:" in result.stderr, result.stderr
        assert "Traceback" not in result.stderr, result.stderr
        assert "unexpected error" not in result.stderr, result.stderr
        return result

    def sign_in(self, arm_url: str, tenant_id: str, client_id: str, client_secret: str) -> None:
        """The commands docs/sandbox.md gives a user, in a fresh config dir. The secret goes
        as ``--password=…``: a secret may start with '-', which az would take for an option."""
        __tracebackhide__ = True  # keeps client_secret out of pytest's failure report
        self.run("config", "set", "core.collect_telemetry=false", "core.instance_discovery=false")
        self.run("cloud", "register", "--name", CLOUD, "--endpoint-resource-manager", arm_url)
        self.run("cloud", "set", "--name", CLOUD)
        self.run(
            "login",
            "--service-principal",
            "--username",
            client_id,
            f"--password={client_secret}",
            "--tenant",
            tenant_id,
            "--output",
            "none",
        )
