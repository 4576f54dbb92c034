"""Progress output (plain and TTY) and the bounded outer retry."""

from __future__ import annotations

import io
import re

import pytest
from azure.core.exceptions import HttpResponseError, ServiceRequestError, ServiceResponseError

from acr_reconcile.apply import retry
from acr_reconcile.apply.executor import ActionResult, Status
from acr_reconcile.apply.progress import PlainProgress, RichProgress
from acr_reconcile.errors import RegistryError, TerminalAzureError, TransientAzureError
from acr_reconcile.plan.model import Action, Change, Kind, Reason
from tests.support.changes import params_for


def _change(address: str, summary: str) -> Change:
    return Change(
        address,
        Kind.REGISTRY,
        Action.CREATE,
        Reason.MISSING,
        "/x",
        summary,
        params=params_for(Kind.REGISTRY),
    )


def test_plain_progress_prints_one_line_at_start_and_one_at_the_end() -> None:
    out = io.StringIO()
    progress = PlainProgress(out)
    unit = [_change("a", "registry r1 (Premium)"), _change("b", "other")]
    progress.started(unit)
    progress.finished(unit, ActionResult("a", Status.FAILED, "quota", 1.25))
    assert out.getvalue().splitlines() == [
        "registry r1 (Premium) (+1 more): creating...",
        "registry r1 (Premium) (+1 more): FAILED after 1.2s: quota",
    ]


def test_rich_progress_leaves_only_the_outcome_lines() -> None:
    from rich.console import Console

    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=100, no_color=True)
    unit = [_change("a", "resource group rg")]
    with RichProgress(console) as progress:
        progress.started(unit)
        progress.finished(unit, ActionResult("a", Status.DONE, "created", 0.5))
    text = re.sub(r"\x1b\[[0-9;?]*[a-zA-Z]", "", out.getvalue())
    assert "done resource group rg (0.5s): created\n" in text
    assert "creating" not in text.split("created\n")[1]  # no stale spinner after it


class Flaky:
    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "ok"


def test_transient_failures_are_retried_with_growing_delays() -> None:
    slept: list[float] = []
    flaky = Flaky(ServiceResponseError("connection reset"), ServiceRequestError("refused"))
    policy = retry.OuterRetry(attempts=4, base_delay=0.5)
    assert retry.call(flaky, "/r", "writing", policy, sleep=slept.append) == "ok"
    assert slept == [0.5, 1.0] and flaky.calls == 3


def test_retries_are_bounded_and_end_in_a_transient_error_naming_the_resource() -> None:
    slept: list[float] = []
    flaky = Flaky(*(ServiceResponseError("reset") for _ in range(5)))
    with pytest.raises(TransientAzureError, match="/subscriptions/s/x: writing failed"):
        retry.call(flaky, "/subscriptions/s/x", "writing", retry.OuterRetry(3), sleep=slept.append)
    assert flaky.calls == 3 and len(slept) == 2


def test_a_refusal_is_not_retried() -> None:
    slept: list[float] = []
    flaky = Flaky(HttpResponseError(message="bad request"))
    with pytest.raises(TerminalAzureError):
        retry.call(flaky, "/r", "writing", retry.OuterRetry(), sleep=slept.append)
    assert flaky.calls == 1 and slept == []


@pytest.mark.parametrize(
    ("error", "retried"),
    [
        (RegistryError("r: manifest a:b: HTTP 502 Bad Gateway", status=502), True),
        (RegistryError("r: manifest a:b: HTTP 429 TOOMANYREQUESTS", status=429), True),
        (RegistryError("https://r/v2/: cannot reach the registry", transient=True), True),
        (RegistryError("r: manifest a:b: HTTP 404 MANIFEST_UNKNOWN", status=404), False),
        (RegistryError("token service refused (HTTP 401)", status=401), False),
        # the decision is the attribute's, never the message's
        (RegistryError("looks like HTTP 503 and cannot reach, but is not"), False),
    ],
)
def test_registry_errors_are_retried_only_when_transient(
    error: RegistryError, retried: bool
) -> None:
    flaky = Flaky(error)
    if retried:
        assert retry.call(flaky, "/r", "importing", retry.OuterRetry(), sleep=lambda _: None)
    else:
        with pytest.raises(RegistryError):
            retry.call(flaky, "/r", "importing", retry.OuterRetry(), sleep=lambda _: None)
    assert flaky.calls == (2 if retried else 1)


def test_sdk_errors_carry_status_and_transient_after_translation() -> None:
    from azure.core.exceptions import HttpResponseError

    class Response:
        status_code = 503
        reason = "Service Unavailable"
        headers: dict[str, str] = {}  # noqa: RUF012

        def text(self) -> str:
            return ""

    throttled = HttpResponseError(message="busy", response=Response())  # type: ignore[arg-type]
    flaky = Flaky(*([throttled] * 5))
    with pytest.raises(TransientAzureError) as raised:
        retry.call(flaky, "/r", "writing", retry.OuterRetry(2), sleep=lambda _: None)
    assert raised.value.status == 503 and raised.value.transient
    assert flaky.calls == 2
