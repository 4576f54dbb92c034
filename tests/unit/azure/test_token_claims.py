"""The tool reads claims of tokens it holds (its own ``oid``, a token's ``exp`` for cache
timing) without verifying them; any JWT RFC 7519 allows must read, a list ``aud`` too."""

from __future__ import annotations

import jwt

from acr_reconcile.azure.credentials import token_claims
from acr_reconcile.registry.acr_auth import jwt_expiry

KEY = "a key long enough for HS256 in PyJWT"  # the tool never checks it: unverified reads


def test_a_list_valued_audience_is_read_like_a_string_one() -> None:
    listed = ["https://management.azure.com/", "https://management.core.windows.net/"]
    token = jwt.encode({"aud": listed, "oid": "ABC", "exp": 2_000_000_000}, KEY)
    assert token_claims(token)["oid"] == "ABC"
    assert token_claims(token)["aud"] == listed
    assert jwt_expiry(token, 300) == 2_000_000_000


def test_an_expired_token_is_still_read_for_its_claims() -> None:
    token = jwt.encode({"aud": "x", "oid": "o", "exp": 1}, KEY)
    assert token_claims(token)["oid"] == "o"
    assert jwt_expiry(token, 300) == 1


def test_what_is_not_a_jwt_reads_as_nothing() -> None:
    for junk in ("", "no-dots", "a.b.c", "a.!!!.c", "e30.W10.x"):  # the last: a list payload
        assert token_claims(junk) == {}
    assert jwt_expiry("a.b.c", 300) > 2_000  # now + default
    without_exp = jwt.encode({"aud": ["x"]}, KEY)
    assert jwt_expiry(without_exp, 300) > 2_000
