"""Requests nothing on the control-plane listener serves still get a JSON error envelope:
a client parsing ARM's shape never meets aiohttp's bare-text 404/405."""

from __future__ import annotations

import pytest
import requests

from acr_sandbox.testing import SandboxHandle


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("GET", "/no/such/path", 404, "NotFound"),
        ("POST", "/metadata/endpoints", 405, "MethodNotAllowed"),
        ("GET", "/common/discovery/instance?api-version=1.1", 404, "NotFound"),
    ],
)
def test_unserved_requests_answer_the_error_envelope(
    sandbox: SandboxHandle, method: str, path: str, status: int, code: str
) -> None:
    answer = requests.request(method, sandbox.arm_url + path, verify=sandbox.ca_bundle, timeout=10)
    assert answer.status_code == status
    assert answer.headers["Content-Type"].startswith("application/json")
    assert answer.json()["error"]["code"] == code


def test_the_admin_api_keeps_its_own_errors(sandbox: SandboxHandle) -> None:
    answer = requests.get(
        f"{sandbox.arm_url}/_sandbox/status", verify=sandbox.ca_bundle, timeout=10
    )
    assert answer.status_code == 401
    assert isinstance(answer.json()["error"], str)
