"""The loader: locations, several documents and files, directories, and all errors at once."""

from __future__ import annotations

from pathlib import Path

import pytest
from spec_helpers import VALID

from acr_reconcile.errors import SpecError
from acr_reconcile.spec.document import Location
from acr_reconcile.spec.loader import load_paths, load_text
from acr_reconcile.spec.models import Sku, TrustStatus

EXAMPLES = Path(__file__).parents[3] / "examples"


def _issues(text: str, name: str = "spec.yaml") -> list[str]:
    with pytest.raises(SpecError) as caught:
        load_text(text, name)
    return [str(issue) for issue in caught.value.issues]


def test_locations_point_at_values_and_container_keys() -> None:
    (document,) = load_text(VALID, "spec.yaml")
    assert document.location("registry.contentTrust") == Location("spec.yaml", 10, 17)
    assert document.location("signers.0.roles.1") == Location("spec.yaml", 14, 29)
    assert document.location("images.0.tags") == Location("spec.yaml", 17, 5)
    # an unlisted path falls back to its nearest written parent
    assert document.location("registry.adminUserEnabled") == Location("spec.yaml", 7, 1)
    assert document.where("images.0") == "spec.yaml:16:5: images.0"


def test_hello_world_example_is_the_walkthrough() -> None:
    (document,) = load_paths([EXAMPLES / "hello-world.yaml"])
    spec = document.spec
    assert spec.resource_group.name == "resourcegroupdavid"
    assert spec.registry.sku is Sku.PREMIUM
    assert spec.registry.content_trust is TrustStatus.ENABLED
    assert spec.signers[0].principal.key == ("displayName", "DavidServiceAccount")
    assert spec.signers[0].roles == ["AcrImageSigner", "AcrPush"]
    assert [(i.tags, i.sign) for i in spec.images] == [(["signed"], True), (["unsigned"], False)]


def test_several_documents_and_files_keep_their_order(tmp_path: Path) -> None:
    other = tmp_path / "other.yaml"
    other.write_text(VALID.replace("registrydavid", "registryother"))
    documents = load_paths([EXAMPLES / "fleet.yaml", other])
    assert [(Path(d.file).name, d.index) for d in documents] == [
        ("fleet.yaml", 0),
        ("fleet.yaml", 1),
        ("fleet.yaml", 2),
        ("other.yaml", 0),
    ]
    assert documents[1].location("registry.name").line > documents[0].location("").line


def test_directory_is_read_recursively_sorted_and_once(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / ".hidden").mkdir()
    (tmp_path / "b" / "two.yml").write_text(VALID.replace("registrydavid", "registrytwo"))
    (tmp_path / "a.yaml").write_text(VALID)
    (tmp_path / ".hidden" / "x.yaml").write_text("not: a spec\n")
    (tmp_path / "readme.txt").write_text("ignored\n")
    documents = load_paths([tmp_path, tmp_path / "a.yaml"])
    assert [Path(d.file).name for d in documents] == ["a.yaml", "two.yml"]


def test_every_error_of_every_file_at_once_sorted(tmp_path: Path) -> None:
    first = tmp_path / "a.yaml"
    first.write_text(VALID.replace("sku: Premium", "sku: Basic").replace("[signed]", "[-bad]"))
    second = tmp_path / "b.yaml"
    second.write_text(VALID.replace("registrydavid", "x").replace("westeurope", "mars"))
    with pytest.raises(SpecError) as caught:
        load_paths([second, first])
    found = [(Path(i.file).name, i.line, i.path) for i in caught.value.issues]
    assert found == [
        ("a.yaml", 10, "registry.contentTrust"),
        ("a.yaml", 17, "images.0.tags.0"),
        ("b.yaml", 6, "resourceGroup.location"),
        ("b.yaml", 8, "registry.name"),
    ]
    assert str(caught.value).splitlines()[0] == "4 problem(s) in the spec input"


def test_same_registry_in_two_files_names_both_places(tmp_path: Path) -> None:
    first, second = tmp_path / "a.yaml", tmp_path / "b.yaml"
    first.write_text(VALID)
    other_subscription = "11111111-1111-1111-1111-111111111111"
    second.write_text(
        VALID.replace("00000000-0000-0000-0000-000000000000", other_subscription).replace(
            "name: registrydavid", "name: REGISTRYDAVID"
        )
    )
    with pytest.raises(SpecError) as caught:
        load_paths([first, second])
    (issue,) = caught.value.issues
    assert (issue.file, issue.line, issue.column, issue.path) == (
        str(second),
        8,
        9,
        "registry.name",
    )
    assert f"already declared at {first}:8:9" in issue.message


def _with_group_tags(text: str, tags: str) -> str:
    return text.replace("  location: westeurope\n", f"  location: westeurope\n  tags: {tags}\n")


def test_documents_sharing_a_resource_group_must_agree_on_written_tags() -> None:
    first = _with_group_tags(VALID, "{env: dev}")
    second = _with_group_tags(VALID.replace("registrydavid", "registrytwo"), "{env: prod}")
    (issue,) = _issues(first + "---\n" + second)
    assert issue.startswith("spec.yaml:26:3: resourceGroup.tags: ")
    assert "different tags at spec.yaml:7:3;" in issue


def test_a_document_that_omits_group_tags_leaves_them_to_the_other() -> None:
    second = _with_group_tags(VALID.replace("registrydavid", "registrytwo"), "{env: prod}")
    documents = load_text(VALID + "---\n" + second, "spec.yaml")
    assert [d.spec.resource_group.model_fields_set >= {"tags"} for d in documents] == [
        False,
        True,
    ]


def test_identical_documents_sharing_a_resource_group_are_fine() -> None:
    second = VALID.replace("registrydavid", "registrytwo").replace("westeurope", "West Europe")
    documents = load_text(VALID + "---\n" + second, "spec.yaml")
    assert len(documents) == 2


def test_normalisation_of_region_and_guids() -> None:
    text = VALID.replace("westeurope", "West Europe").replace(
        "00000000-0000-0000-0000-000000000000", "ABCDEF00-0000-0000-0000-0000000000AB"
    )
    (document,) = load_text(text)
    assert document.spec.resource_group.location == "westeurope"
    assert document.spec.subscription_id == "abcdef00-0000-0000-0000-0000000000ab"


def test_bom_and_small_anchors_are_accepted() -> None:
    text = VALID.replace(
        "    tags: [signed]\n",
        "    tags: [signed]\n    source: &hello docker.io/library/hello-world:latest\n"
        "  - repository: hello-world\n    tags: [unsigned]\n    sign: false\n    source: *hello\n",
    )
    (document,) = load_text("\ufeff" + text)
    assert document.spec.images[1].source == "docker.io/library/hello-world:latest"


def test_same_tag_twice_with_the_same_settings_is_fine() -> None:
    text = VALID + "  - repository: hello-world\n    tags: [signed, other]\n"
    (document,) = load_text(text)
    assert len(document.spec.images) == 2


def test_one_file_several_problems_all_reported() -> None:
    text = VALID.replace("kind: RegistryTrust", "kind: Trust").replace(
        "  sku: Premium\n", "  sku: Premium\n  sku: Basic\n"
    )
    issues = _issues(text + "extra: 1\n")
    assert [i.split(": ")[0] for i in issues] == [
        "spec.yaml:2:7",
        "spec.yaml:10:3",
        "spec.yaml:19:1",
    ]


def test_syntax_error_after_a_valid_document_keeps_earlier_problems() -> None:
    text = VALID.replace("registrydavid", "r") + "---\nkey: [unclosed\n"
    issues = _issues(text)
    assert issues[0].startswith("spec.yaml:8:9: registry.name: ")
    assert issues[1].startswith("spec.yaml:20:1: YAML syntax: ")


def test_line_breaks_in_keys_and_values_stay_escaped() -> None:
    text = VALID.replace("  sku: Premium\n", '  sku: Premium\n  "a\\nb": "x\\ny"\n')
    (issue,) = _issues(text)
    assert issue.startswith("spec.yaml:10:3: registry.a\\nb: unknown field 'a\\nb'")
    assert "\n" not in issue
