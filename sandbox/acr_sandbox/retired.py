"""Credentials a reset retired, so a token request that still uses them is told why.

``sandbox reset`` gives the sandbox a new world: a new tenant, principals and secrets. A shell
that exported the old ``sandbox env`` lines keeps sending the old client id and secret,
and Entra's plain "application not found" / "invalid client secret" does not say the
fix. The reset records the tenant and app ids it retired (never a secret); Entra adds the
remedy to its error for those ids only.
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

from acr_sandbox.certs import write_private

FILE = "retired-credentials.json"
_KEEP = 200  # app ids remembered across resets


def retire_app_ids(state_dir: Path, app_ids: list[str]) -> None:
    """Remember ``app_ids`` (and the time of the reset) beside the state."""
    previous = retired(state_dir)
    ids = list(dict.fromkeys([*(a.lower() for a in app_ids), *previous.get("appIds", [])]))
    data = {
        "resetAt": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "appIds": ids[:_KEEP],
    }
    write_private(state_dir / FILE, (json.dumps(data, indent=1) + "\n").encode())


def retired(state_dir: Path) -> dict[str, Any]:
    try:
        data = json.loads((state_dir / FILE).read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def reset_hint(state_dir: Path, client_id: str) -> str:
    """The remedy to put first in a token error for ``client_id`` (an app id, or a tenant id
    the reset replaced), or "" when it was not retired."""
    data = retired(state_dir)
    if client_id.lower() not in data.get("appIds", []):
        return ""
    return (
        f"This sandbox was reset at {data.get('resetAt', 'an earlier time')}: these are "
        'credentials from before it; re-run eval "$(acr-reconcile sandbox env)". '
    )
