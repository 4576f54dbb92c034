"""Entra ID emulation through the real azure-identity credentials, and ARM's token check."""

from __future__ import annotations

import time
import uuid

import pytest
import requests
from azure.core.exceptions import ClientAuthenticationError
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from acr_sandbox import jwt
from acr_sandbox.testing import SandboxHandle

ARM_SCOPE = "https://management.azure.com/.default"


def _claims(token: str) -> dict[str, object]:
    return jwt.unverified_claims(token)


def test_client_secret_credential_gets_an_arm_token_for_the_owner(sandbox: SandboxHandle) -> None:
    token = sandbox.credential().get_token(ARM_SCOPE).token
    claims = _claims(token)
    assert claims["aud"] == "https://management.azure.com"  # the scope without '/.default'
    assert claims["appid"] == sandbox.client_id
    assert claims["tid"] == sandbox.tenant_id
    assert claims["iss"] == f"{sandbox.arm_url}/{sandbox.tenant_id}/"
    assert claims["ver"] == "1.0"


def test_environment_and_default_credentials_read_the_sandbox_env(
    sandbox: SandboxHandle, monkeypatch: pytest.MonkeyPatch
) -> None:
    from azure.identity import DefaultAzureCredential, EnvironmentCredential

    for name, value in sandbox.env().items():
        monkeypatch.setenv(name, value)
    options = {"disable_instance_discovery": True, "connection_verify": sandbox.ca_bundle}
    with EnvironmentCredential(**options) as environment:
        env_token = environment.get_token(ARM_SCOPE).token
    with DefaultAzureCredential(exclude_interactive_browser_credential=True, **options) as default:
        default_token = default.get_token(ARM_SCOPE).token
    assert _claims(env_token)["appid"] == _claims(default_token)["appid"] == sandbox.client_id


def test_wrong_secret_and_unknown_client_are_refused(sandbox: SandboxHandle) -> None:
    from azure.identity import ClientSecretCredential

    options = {
        "authority": sandbox.arm_url,
        "disable_instance_discovery": True,
        "connection_verify": sandbox.ca_bundle,
    }
    wrong = ClientSecretCredential(sandbox.tenant_id, sandbox.client_id, "not-it", **options)
    with wrong, pytest.raises(ClientAuthenticationError, match="AADSTS7000215"):
        wrong.get_token(ARM_SCOPE)
    unknown = ClientSecretCredential(sandbox.tenant_id, str(uuid.uuid4()), "x", **options)
    with unknown, pytest.raises(ClientAuthenticationError, match="AADSTS700016"):
        unknown.get_token(ARM_SCOPE)


def _assertion(
    key: rsa.RSAPrivateKey, issuer: str, subject: str, audience: str | list[str] = ""
) -> str:
    now = int(time.time())
    claims = {
        "iss": issuer,
        "sub": subject,
        "aud": audience or "api://AzureADTokenExchange",
        "iat": now,
        "nbf": now,
        "exp": now + 600,
    }
    return jwt.sign(key, claims)


def test_workload_identity_assertion_signed_by_a_federated_key(sandbox: SandboxHandle) -> None:
    from azure.identity import ClientAssertionCredential

    app_id, object_id, _ = sandbox.add_principal(f"wi-{uuid.uuid4().hex[:6]}")
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    issuer = "https://token.actions.githubusercontent.com"
    subject = "repo:example/fleet:ref:refs/heads/main"
    sandbox.add_federated_credential(object_id, issuer, subject, pem)
    options = {
        "authority": sandbox.arm_url,
        "disable_instance_discovery": True,
        "connection_verify": sandbox.ca_bundle,
    }
    good = ClientAssertionCredential(
        sandbox.tenant_id, app_id, lambda: _assertion(key, issuer, subject), **options
    )
    with good:
        assert _claims(good.get_token(ARM_SCOPE).token)["oid"] == object_id
    other_subject = ClientAssertionCredential(
        sandbox.tenant_id, app_id, lambda: _assertion(key, issuer, "repo:evil/x"), **options
    )
    with other_subject, pytest.raises(ClientAuthenticationError, match="AADSTS70021"):
        other_subject.get_token(ARM_SCOPE)
    # a Kubernetes service account token (AKS workload identity) carries ``aud`` as a
    # list, which RFC 7519 allows; one of its values must be the credential's audience
    listed = ["api://AzureADTokenExchange"]
    as_list = ClientAssertionCredential(
        sandbox.tenant_id, app_id, lambda: _assertion(key, issuer, subject, listed), **options
    )
    with as_list:
        assert _claims(as_list.get_token(ARM_SCOPE).token)["oid"] == object_id
    elsewhere = ["https://kubernetes.default.svc"]
    wrong_list = ClientAssertionCredential(
        sandbox.tenant_id, app_id, lambda: _assertion(key, issuer, subject, elsewhere), **options
    )
    with wrong_list, pytest.raises(ClientAuthenticationError, match="AADSTS70021"):
        wrong_list.get_token(ARM_SCOPE)


def _arm_get(sandbox: SandboxHandle, token: str) -> requests.Response:
    url = f"{sandbox.arm_url}/subscriptions/{sandbox.subscription_id}?api-version=2022-12-01"
    return requests.get(
        url, headers={"Authorization": f"Bearer {token}"}, verify=sandbox.ca_bundle, timeout=10
    )


def test_arm_checks_signature_audience_and_presence_of_the_token(sandbox: SandboxHandle) -> None:
    good = sandbox.credential().get_token(ARM_SCOPE).token
    assert _arm_get(sandbox, good).json()["tenantId"] == sandbox.tenant_id
    forged = jwt.sign(rsa.generate_private_key(public_exponent=65537, key_size=2048), _claims(good))
    response = _arm_get(sandbox, forged)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "InvalidAuthenticationToken"
    graph_token = sandbox.credential().get_token("https://graph.microsoft.com/.default").token
    response = _arm_get(sandbox, graph_token)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "InvalidAuthenticationTokenAudience"
    missing = requests.get(
        f"{sandbox.arm_url}/subscriptions?api-version=2022-12-01",
        verify=sandbox.ca_bundle,
        timeout=10,
    )
    assert missing.status_code == 401
    assert missing.json()["error"]["code"] == "AuthenticationFailed"


def test_arm_refuses_an_expired_token(sandbox: SandboxHandle) -> None:
    claims = _claims(sandbox.credential().get_token(ARM_SCOPE).token)
    from acr_sandbox.jwt import load_signing_key

    expired = dict(claims, exp=int(time.time()) - 3600, nbf=int(time.time()) - 7200)
    token = jwt.sign(load_signing_key(sandbox.state_dir), expired)
    response = _arm_get(sandbox, token)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "ExpiredAuthenticationToken"


def test_arm_requires_an_api_version(sandbox: SandboxHandle) -> None:
    token = sandbox.credential().get_token(ARM_SCOPE).token
    response = requests.get(
        f"{sandbox.arm_url}/subscriptions/{sandbox.subscription_id}/resourcegroups",
        headers={"Authorization": f"Bearer {token}", "x-ms-correlation-request-id": "abc"},
        verify=sandbox.ca_bundle,
        timeout=10,
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "MissingApiVersionParameter"
    assert response.headers["x-ms-correlation-request-id"] == "abc"


def test_token_endpoint_accepts_basic_client_credentials(sandbox: SandboxHandle) -> None:
    url = f"{sandbox.arm_url}/{sandbox.tenant_id}/oauth2/v2.0/token"
    form = {"grant_type": "client_credentials", "scope": ARM_SCOPE}
    good = requests.post(
        url, data=form, auth=(sandbox.client_id, sandbox.client_secret),
        verify=sandbox.ca_bundle, timeout=10,
    )  # fmt: skip
    assert _claims(good.json()["access_token"])["appid"] == sandbox.client_id
    bad = requests.post(
        url, data=form, auth=(sandbox.client_id, "wrong"), verify=sandbox.ca_bundle, timeout=10
    )
    assert (bad.status_code, bad.json()["error_codes"]) == (401, [7000215])
    assert "wrong" not in bad.text


def test_subscriptions_are_listed_only_to_principals_holding_a_role(
    sandbox: SandboxHandle,
) -> None:
    from azure.identity import ClientSecretCredential

    app_id, _, secret = sandbox.add_principal(f"lister-{uuid.uuid4().hex[:6]}")
    listed = []
    for client_id, client_secret in ((sandbox.client_id, sandbox.client_secret), (app_id, secret)):
        with ClientSecretCredential(
            sandbox.tenant_id,
            client_id,
            client_secret,
            authority=sandbox.arm_url,
            disable_instance_discovery=True,
            connection_verify=sandbox.ca_bundle,
        ) as credential:
            token = credential.get_token(ARM_SCOPE).token
        response = requests.get(
            f"{sandbox.arm_url}/subscriptions?api-version=2022-12-01",
            headers={"Authorization": f"Bearer {token}"},
            verify=sandbox.ca_bundle,
            timeout=10,
        )
        listed.append([s["subscriptionId"] for s in response.json()["value"]])
    # the seeded owner owns every subscription (other tests may have added some, and a
    # reset keeps them, as it keeps principals); a principal holding no role sees none
    owner_sees, new_principal_sees = listed
    assert sandbox.subscription_id in owner_sees
    assert new_principal_sees == []
