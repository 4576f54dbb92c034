from acr_sandbox.dataplane.scopes import (
    ACR_DELETE,
    ACR_IMAGE_SIGNER,
    ACR_PULL,
    ACR_PUSH,
    CONTRIBUTOR,
    OWNER,
    Scope,
    grant,
    parse_scopes,
)

LS = "127.0.0.1:5443"


def _by_name(access: list[dict[str, object]]) -> dict[object, object]:
    return {entry["name"]: entry["actions"] for entry in access}


def test_gun_name_is_taken_between_first_and_last_colon() -> None:
    assert parse_scopes([f"repository:{LS}/team/app:push,pull"]) == [
        Scope("repository", f"{LS}/team/app", frozenset({"push", "pull"}))
    ]


def test_repeated_and_space_separated_scopes_are_all_read() -> None:
    scopes = parse_scopes(["repository:a:pull repository:b:push", "registry:catalog:*"])
    assert [s.name for s in scopes] == ["a", "b", "catalog"]


def test_malformed_scopes_are_ignored() -> None:
    assert parse_scopes(["", "repository", "repository:a", ":a:pull", "repository:a:"]) == []


def test_pull_role_gets_pull_on_registry_and_trust_names() -> None:
    access = grant(parse_scopes(["repository:hello:pull,push"]), frozenset({ACR_PULL}), LS)
    assert _by_name(access) == {"hello": ["pull"], f"{LS}/hello": ["pull"]}


def test_push_without_signer_cannot_push_trust_data() -> None:
    access = grant(parse_scopes([f"repository:{LS}/hello:push,pull"]), frozenset({ACR_PUSH}), LS)
    assert _by_name(access) == {"hello": ["pull", "push"], f"{LS}/hello": ["pull"]}


def test_signer_with_push_may_publish_and_rotate() -> None:
    roles = frozenset({ACR_PUSH, ACR_IMAGE_SIGNER})
    access = grant(parse_scopes([f"repository:{LS}/hello:*"]), roles, LS)
    assert _by_name(access) == {f"{LS}/hello": ["*"]}


def test_signer_alone_gets_nothing() -> None:
    access = grant(parse_scopes(["repository:hello:push,pull"]), frozenset({ACR_IMAGE_SIGNER}), LS)
    assert access == []


def test_no_role_gets_nothing() -> None:
    assert (
        grant(parse_scopes(["repository:hello:pull", "registry:catalog:*"]), frozenset(), LS) == []
    )


def test_owner_and_contributor_get_everything_asked() -> None:
    for role in (OWNER, CONTRIBUTOR):
        access = grant(parse_scopes(["repository:hello:pull,push,delete"]), frozenset({role}), LS)
        assert _by_name(access) == {
            "hello": ["delete", "pull", "push"],
            f"{LS}/hello": ["delete", "pull", "push"],
        }


def test_delete_role_deletes_only() -> None:
    access = grant(parse_scopes(["repository:hello:pull,delete"]), frozenset({ACR_DELETE}), LS)
    assert _by_name(access) == {"hello": ["delete"]}


def test_another_hosts_gun_is_never_granted() -> None:
    roles = frozenset({OWNER})
    assert grant(parse_scopes(["repository:127.0.0.1:9999/hello:pull"]), roles, LS) == []


def test_role_guids_are_case_insensitive() -> None:
    access = grant(parse_scopes(["repository:hello:pull"]), frozenset({ACR_PULL.upper()}), LS)
    assert _by_name(access) == {"hello": ["pull"], f"{LS}/hello": ["pull"]}
