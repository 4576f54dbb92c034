"""The Entra token exchanged for an ACR refresh token is asked for the cloud's ARM
audience, so sovereign clouds, Azure Stack and the sandbox work, not only Azure public."""

from __future__ import annotations

from typing import Any

import pytest

from acr_reconcile.registry.acr_auth import AcrTokenSource


class _Recorded(Exception):
    pass


class _RecordingCredential:
    def __init__(self) -> None:
        self.scopes: list[str] = []

    def get_token(self, *scopes: str, **_: Any) -> Any:
        self.scopes += scopes
        raise _Recorded


@pytest.mark.parametrize(
    ("given", "asked"),
    [
        (None, "https://management.azure.com/.default"),
        (
            "https://management.usgovcloudapi.net/.default",
            "https://management.usgovcloudapi.net/.default",
        ),
    ],
)
def test_exchange_asks_entra_for_the_clouds_arm_scope(given: str | None, asked: str) -> None:
    credential = _RecordingCredential()
    source = AcrTokenSource(credential, entra_scope=given)  # type: ignore[arg-type]
    with pytest.raises(_Recorded):
        source.for_registry("reg.example").refresh_token(
            realm="https://reg.example/oauth2/token", service="reg.example"
        )
    source.close()
    assert credential.scopes == [asked]
