"""Runtime knobs of the sandbox, changeable through the admin API without a restart.

Defaults are Azure's own behaviour (real ARM throttling rates, a few seconds of Entra
replication lag, today's content trust rules); tests and benchmarks relax them.
"""

from __future__ import annotations

from typing import Any

DCT_MODES = ("current", "legacy")

_DEFAULTS: dict[str, Any] = {
    "dct": "current",  # "current": today's rules; "legacy": before the 2026-05-31 cut-off
    "replicationLagSeconds": 3.0,
    "pageSize": 20,  # registries per list page (nextLink beyond)
    "lroPolls": 0,  # status-monitor answers "InProgress" this many times before the end
    "lroRetryAfter": 1,  # Retry-After (seconds) on InProgress status answers
    "throttle": {
        "enabled": True,
        "reads": {"capacity": 250, "refill": 25},
        "writes": {"capacity": 200, "refill": 10},
        "deletes": {"capacity": 200, "refill": 10},
    },
    "tokenLifetimeSeconds": 3600,
    "enforceRbac": True,  # ARM answers 403 AuthorizationFailed to callers without a role
    # a new role assignment reaches Key Vault's data plane only after this long (Azure:
    # "up to 10 minutes"; two minutes keep the walkthrough short yet make a client wait)
    "keyVaultRbacDelaySeconds": 120.0,
    # Key Vault's published per-vault limits (software keys), per window of 10 s
    "keyVaultThrottle": {
        "enabled": True,
        "windowSeconds": 10,
        "transactions": 4000,  # weighted: RSA-3072 costs 4, RSA-4096 8, others 1
        "keyCreates": 20,
        "secretCreates": 300,
    },
}


def default_settings() -> dict[str, Any]:
    import copy

    return copy.deepcopy(_DEFAULTS)


class SettingsError(ValueError):
    """A settings change names an unknown key or a value of the wrong kind."""


def apply_changes(current: dict[str, Any], changes: dict[str, Any]) -> None:
    """Merge ``changes`` into ``current`` after checking every key and type."""
    for key, value in changes.items():
        if key not in _DEFAULTS:
            raise SettingsError(f"unknown setting {key!r}")
        if key == "dct" and value not in DCT_MODES:
            raise SettingsError(f"dct must be one of {', '.join(DCT_MODES)}")
        if key == "throttle":
            _merge_throttle(current["throttle"], value)
            continue
        if key == "keyVaultThrottle":
            _merge_numbers(key, current[key], value)
            continue
        expected = type(_DEFAULTS[key])
        if expected is float and isinstance(value, int):
            value = float(value)
        if not isinstance(value, expected) or isinstance(value, bool) != (expected is bool):
            raise SettingsError(f"{key} must be of type {expected.__name__}")
        if isinstance(value, int | float) and value < 0:
            raise SettingsError(f"{key} must not be negative")
        current[key] = value


def _merge_throttle(current: dict[str, Any], value: Any) -> None:
    if not isinstance(value, dict):
        raise SettingsError("throttle must be an object")
    for key, item in value.items():
        if key == "enabled":
            if not isinstance(item, bool):
                raise SettingsError("throttle.enabled must be a boolean")
            current[key] = item
        elif key in ("reads", "writes", "deletes") and isinstance(item, dict):
            for field in ("capacity", "refill"):
                if field in item:
                    number = item[field]
                    if not isinstance(number, int | float) or number <= 0:
                        raise SettingsError(f"throttle.{key}.{field} must be a positive number")
                    current[key][field] = number
        else:
            raise SettingsError(f"unknown throttle setting {key!r}")


def _merge_numbers(name: str, current: dict[str, Any], value: Any) -> None:
    """A flat settings object: ``enabled`` (boolean) and positive numbers."""
    if not isinstance(value, dict):
        raise SettingsError(f"{name} must be an object")
    for key, item in value.items():
        if key not in current:
            raise SettingsError(f"unknown {name} setting {key!r}")
        if key == "enabled":
            if not isinstance(item, bool):
                raise SettingsError(f"{name}.enabled must be a boolean")
        elif isinstance(item, bool) or not isinstance(item, int | float) or item <= 0:
            raise SettingsError(f"{name}.{key} must be a positive number")
        current[key] = item
