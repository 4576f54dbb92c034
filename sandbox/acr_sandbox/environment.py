"""The environment that points the tool (and any Azure SDK program) at the sandbox: the
variable names the Azure ecosystem already uses, so no code path is sandbox-specific."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

from acr_sandbox.certs import cert_paths
from acr_sandbox.errors import SandboxError
from acr_sandbox.state import OWNER_NAME, SUBSCRIPTION_ID, secret_file


def env_vars(state_dir: Path) -> dict[str, str]:
    path = state_dir / "state.json"
    if not path.exists():
        raise SandboxError(f"{state_dir}: no sandbox here yet; run 'acr-reconcile sandbox up'")
    state = json.loads(path.read_text())
    port = state.get("port")
    if not port:
        raise SandboxError(f"{state_dir}: the sandbox has never been started")
    host = f"127.0.0.1:{port}"
    bundle = str(cert_paths(state_dir).bundle)
    return {
        "AZURE_TENANT_ID": str(state["tenantId"]),
        "AZURE_CLIENT_ID": str(state["owner"]["appId"]),
        "AZURE_CLIENT_SECRET": secret_file(state_dir, OWNER_NAME).read_text().strip(),
        "AZURE_AUTHORITY_HOST": f"https://{host}",
        "AZURE_SUBSCRIPTION_ID": SUBSCRIPTION_ID,
        "REQUESTS_CA_BUNDLE": bundle,
        "SSL_CERT_FILE": bundle,
        "ARM_METADATA_HOSTNAME": host,
        # so `acr-reconcile sandbox status|down|reset` find this sandbox from any directory
        "ACR_RECONCILE_SANDBOX_DIR": str(state_dir.resolve()),
    }


def export_lines(state_dir: Path) -> str:
    return "\n".join(f"export {k}={shlex.quote(v)}" for k, v in env_vars(state_dir).items())
