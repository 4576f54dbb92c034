"""One image-reference parser: what the plan shows is what apply imports."""

from __future__ import annotations

import pytest

from acr_reconcile.spec.reference import ImageSource, parse_image_source


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("hello-world", ("docker.io", "library/hello-world")),
        ("hello-world:latest", ("docker.io", "library/hello-world:latest")),
        ("docker.io/hello-world:latest", ("docker.io", "library/hello-world:latest")),
        ("docker.io/library/hello-world:latest", ("docker.io", "library/hello-world:latest")),
        ("index.docker.io/team/app:1", ("docker.io", "team/app:1")),
        # the two former parsers disagreed here: every Docker Hub alias is Docker Hub
        ("index.docker.io/hello-world:latest", ("docker.io", "library/hello-world:latest")),
        ("registry-1.docker.io/hello-world", ("docker.io", "library/hello-world")),
        ("registry-1.docker.io/team/app:1", ("docker.io", "team/app:1")),
        ("team/app:1", ("docker.io", "team/app:1")),
        ("myregistry.azurecr.io/app:1", ("myregistry.azurecr.io", "app:1")),
        ("myreg.azurecr.io/a/b:c", ("myreg.azurecr.io", "a/b:c")),
        ("127.0.0.1:5000/hello:v1", ("127.0.0.1:5000", "hello:v1")),
        ("localhost:5000/app@sha256:" + "a" * 64, ("localhost:5000", "app@sha256:" + "a" * 64)),
        ("localhost/app@sha256:ab", ("localhost", "app@sha256:ab")),
        ("localhost/app", ("localhost", "app")),
    ],
)
def test_sources_split_the_way_docker_reads_them(source: str, expected: tuple[str, str]) -> None:
    assert parse_image_source(source) == ImageSource(*expected)


def test_the_planned_import_carries_the_parsed_source() -> None:
    from acr_reconcile.plan.model import ImageImportParams, Kind
    from acr_reconcile.plan.planner import plan
    from tests.unit.plan.plan_fixtures import LEGACY, WALKTHROUGH, documents, empty_live

    text = WALKTHROUGH.replace(
        "docker.io/library/hello-world:latest", "index.docker.io/hello-world"
    )
    (imported,) = [
        c
        for c in plan(documents(text), empty_live(), LEGACY).changes
        if c.kind is Kind.IMAGE_IMPORT
    ]
    params = imported.params_as(ImageImportParams)
    assert (params.source_registry, params.source_image) == ("docker.io", "library/hello-world")
    assert params.source == "index.docker.io/hello-world"
