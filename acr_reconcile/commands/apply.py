"""`acr-reconcile apply SPEC...|PLANFILE`: make Azure match the spec.

``apply SPEC`` plans afresh against live state and asks before changing anything (unless
--auto-approve; never a prompt without a TTY). ``apply PLANFILE`` re-reads live state,
refuses when anything the saved plan depended on moved, else carries out exactly that
plan. Disabling content trust also needs --allow-destroy-trust: it deletes signatures.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TextIO

from acr_reconcile.commands import plan as plan_command

if TYPE_CHECKING:
    from acr_reconcile.apply.context import ApplyContext
    from acr_reconcile.apply.executor import ApplyResult, Progress
    from acr_reconcile.apply.migration import MigrationLedger
    from acr_reconcile.commands.connection import Connection
    from acr_reconcile.commands.plan import Planned
    from acr_reconcile.errors import PlanError
    from acr_reconcile.live.state import LiveState
    from acr_reconcile.plan.model import Plan
    from acr_reconcile.plan.planfile import SavedPlan


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "apply",
        help="carry out the changes that make Azure match the spec",
        description="Plan afresh from SPEC files (and ask), or apply a saved PLANFILE.",
    )
    p.add_argument("spec", nargs="+", metavar="SPEC|PLANFILE", help="spec files/dirs or a plan")
    p.add_argument("--auto-approve", action="store_true", help="do not ask for confirmation")
    p.add_argument(
        "--spec",
        dest="branch_spec",
        nargs="+",
        metavar="PATH",
        help="with PLANFILE: refuse unless its documents are these spec files' documents",
    )
    p.add_argument(
        "--allow-destroy-trust",
        action="store_true",
        help="allow disabling content trust (deletes every signature, cannot be undone)",
    )
    plan_command.add_common(p)
    p.set_defaults(run=run)


def _check_destroy(plan: Plan, allowed: bool) -> None:
    from acr_reconcile.errors import ConfigError

    if plan.destroys_trust and not allowed:
        raise ConfigError(
            "this plan disables content trust, which deletes every signature in the registry "
            "for good; review it and run again with --allow-destroy-trust"
        )


def _side(args: argparse.Namespace) -> TextIO:
    """Where messages beside the plan go: stdout with text, stderr beside JSON or markdown."""
    return sys.stdout if args.output == "text" else sys.stderr


def _confirm(auto_approve: bool, stream: TextIO) -> bool:
    from acr_reconcile.errors import ConfigError

    if auto_approve:
        return True
    if not sys.stdin.isatty():
        raise ConfigError(
            "no prompt without a TTY: review the plan and pass --auto-approve, "
            "or save it with `plan --out FILE` and run `apply FILE`"
        )
    print("\nDo you want to perform these actions? Only 'yes' will be accepted.", file=stream)
    print("  Enter a value: ", end="", file=stream, flush=True)
    return sys.stdin.readline().strip() == "yes"


def _context(
    plan: Plan, connection: Connection, args: argparse.Namespace, ledger: MigrationLedger
) -> ApplyContext:
    """The handlers' context: clients, the DCT publisher, the migration's ledger and
    verifier, and the Notation signer seams."""
    from acr_reconcile.apply.context import ApplyContext, NotationSeams
    from acr_reconcile.apply.migration import carried_verifier
    from acr_reconcile.apply.notation_keys import SignerSource
    from acr_reconcile.apply.signing import data_plane_seams
    from acr_reconcile.azure.credentials import caller_object_id

    data_plane = connection.data_plane()
    seams = data_plane_seams(connection.session, data_plane)
    return ApplyContext(
        session=connection.session,
        caller_object_id=caller_object_id(connection.credential, connection.cloud),
        allow_destroy_trust=args.allow_destroy_trust,
        publish_signatures=seams.publish,
        tag_digest=seams.tag_digest,
        migration=ledger,
        verify_carried=carried_verifier(connection.session, data_plane, ledger),
        notation=NotationSeams(
            signer=SignerSource(connection.session, plan),
            registry=data_plane.registry,
        ),
    )


def _require_signing_ready(plan: Plan, ctx: ApplyContext, args: argparse.Namespace) -> None:
    """Every Notation key of the plan reads and signs before the first write (one probe
    signature each; the signers are kept for the run)."""
    from acr_reconcile.apply.notation_keys import SignerSource, require_signing_ready

    if ctx.notation is None or not isinstance(ctx.notation.signer, SignerSource):
        return
    side = _side(args)
    require_signing_ready(
        plan, ctx.notation.signer, ctx, say=lambda m: print(m, file=side, flush=True)
    )


def _close_signers(ctx: ApplyContext) -> None:
    from acr_reconcile.apply.notation_keys import SignerSource

    if ctx.notation is not None and isinstance(ctx.notation.signer, SignerSource):
        ctx.notation.signer.close()


def _execute(plan: Plan, ctx: ApplyContext, args: argparse.Namespace) -> ApplyResult:
    from dataclasses import replace

    from acr_reconcile.apply.applied import record_applied
    from acr_reconcile.apply.executor import Stop, execute
    from acr_reconcile.apply.handlers import group_key, runner
    from acr_reconcile.apply.interrupts import gentle_interrupts

    stop = Stop()
    side = _side(args)

    def say(message: str) -> None:
        print(f"\n{message}", file=side, flush=True)

    with _progress(args) as progress, gentle_interrupts(stop, say):
        ctx = replace(ctx, say=getattr(progress, "note", ctx.say))
        run = runner(ctx)
        result = execute(
            plan, run, parallelism=args.parallelism, group=group_key, progress=progress, stop=stop
        )
        if not result.interrupted:  # an interrupted run starts nothing more, bookkeeping too
            record_applied(plan, result, ctx)  # on the registry: not the user's change
    return result


@contextmanager
def _progress(args: argparse.Namespace) -> Iterator[Progress]:
    """JSON events on stdout, a live view on a TTY, else one plain line per step."""
    from acr_reconcile import console
    from acr_reconcile.apply.progress import PlainProgress, RichProgress
    from acr_reconcile.apply.report import JsonProgress

    if args.output == "json":
        yield JsonProgress(sys.stdout)
        return
    stream = _side(args)
    if not stream.isatty():
        yield PlainProgress(stream)
        return
    terminal = console.stdout() if stream is sys.stdout else console.stderr()
    with RichProgress(terminal) as live:
        yield live


def _summary(plan: Plan, result: ApplyResult, args: argparse.Namespace) -> None:
    from acr_reconcile.apply.report import JsonProgress, outcome

    counted = outcome(plan, result)
    if args.output == "json":
        events = JsonProgress(sys.stdout)
        events.skipped(plan, result)
        events.summary(counted)
    else:
        finished = "Apply complete!" if not (counted.failed or counted.skipped) else "Apply failed:"
        print(f"\n{finished} {counted.line()}.", file=_side(args))
    result.raise_for_failures()


def _show(plan: Plan, connection: Connection, args: argparse.Namespace) -> None:
    """The plan about to be applied: as text/markdown/github, or as JSON events."""
    if args.output != "json":
        plan_command.show(plan, args.output, connection.rules.note)
        return
    from acr_reconcile.apply.report import JsonProgress, planned_events

    events = JsonProgress(sys.stdout)
    for event in planned_events(plan):
        events.emit(event)


def _apply_saved(
    path: str, connection: Connection, args: argparse.Namespace
) -> tuple[Plan, LiveState]:
    """The plan made again from the file's documents, once the file's changes are shown
    to be exactly that plan: a plan file is data anyone could have edited, so nothing in
    it but the documents decides what is changed (see plan/saved_check.py)."""
    from acr_reconcile.apply.readiness import require_ready, require_same_caller
    from acr_reconcile.errors import PlanError, PlanMismatchError, StalePlanError
    from acr_reconcile.plan.fingerprint import compare, live_fingerprints, live_observations
    from acr_reconcile.plan.planfile import read_plan
    from acr_reconcile.plan.saved_check import (
        documents_differ,
        out_of_bounds,
        summary,
        unexpected_changes,
    )

    saved = read_plan(path)
    if args.branch_spec:
        branch = plan_command.load_documents(args.branch_spec, None)
        differ = documents_differ(saved.documents, branch)
        if differ:
            why = "its documents are not the given spec files'"
            raise PlanMismatchError(path, why, summary(differ))
    outside = out_of_bounds(saved.plan, saved.documents)
    if outside:
        raise PlanMismatchError(path, "it changes what its documents do not name", summary(outside))
    as_applier = plan_command.plan_documents(
        saved.documents, connection, args.parallelism, args.dct_inventory
    )
    # first: another identity sees other live facts (what it may not read), so the plan
    # would also look stale, for a reason that does not say what to do
    require_same_caller(saved.plan, as_applier.plan)
    fresh = _as_planner(saved, as_applier, connection)
    explanations = compare(
        saved.plan.fingerprints,
        live_fingerprints(saved.documents, fresh.live),
        saved.plan.observed,
        live_observations(saved.documents, fresh.live),
    )
    if explanations:
        raise StalePlanError(explanations)
    if fresh.plan.errors:
        raise PlanError(list(fresh.plan.errors))
    differences = unexpected_changes(saved.plan, fresh.plan)
    principals = [
        r.principal.object_id for r in fresh.live.principals.values() if r.principal is not None
    ]
    differences += out_of_bounds(fresh.plan, saved.documents, principals)
    if differences:
        why = "its changes are not what its documents plan against live state"
        raise PlanMismatchError(path, why, summary(differences))
    _show(fresh.plan, connection, args)
    require_ready(fresh.plan)  # this run's keys and passphrases, not the planning run's
    return fresh.plan, fresh.live


def _as_planner(saved: SavedPlan, fresh: Planned, connection: Connection) -> Planned:
    """The file's documents planned now, as the identity that made the plan saw it.

    The planner spares the planning identity's own access from prunes (and grants it the
    Key Vault roles it needs), so the plan is made again as that identity (the file says
    which) to be comparable change for change; the identity running apply is protected
    where the prune runs (the role assignment handler) and by ``require_same_caller``.
    A file naming another identity can only spare one more assignment, never add a change.
    """
    from dataclasses import replace

    from acr_reconcile.plan.planner import plan

    planned_by = saved.meta.get("planned_by")
    if not isinstance(planned_by, str) or planned_by.lower() == fresh.live.caller_object_id:
        return fresh
    live = replace(fresh.live, caller_object_id=planned_by.lower())
    return plan_command.Planned(
        fresh.documents, live, plan(fresh.documents, live, connection.rules)
    )


def _plan_fresh(connection: Connection, args: argparse.Namespace) -> tuple[Plan | None, LiveState]:
    from acr_reconcile.apply.readiness import require_ready
    from acr_reconcile.errors import PlanError

    documents = plan_command.load_documents(args.spec, args.shard)
    planned = plan_command.plan_documents(
        documents, connection, args.parallelism, args.dct_inventory
    )
    plan = planned.plan
    if plan.errors:  # shown once, as the error; nothing is applied
        raise PlanError(list(plan.errors))
    _show(plan, connection, args)
    if not plan.has_changes:
        _record_only(plan, connection, args)
        return None, planned.live
    _check_destroy(plan, args.allow_destroy_trust)
    require_ready(plan)  # before the prompt: never ask, then refuse
    if not _confirm(args.auto_approve, _side(args)):
        from acr_reconcile.errors import ConfigError

        raise ConfigError("apply cancelled: nothing was changed")
    return plan, planned.live


def run(args: argparse.Namespace) -> int:
    """A plan with errors ends apply before anything is shown or changed; its findings
    read as ``plan`` prints them (FILE:LINE first, the spec line with a caret under it,
    the resource after), then one line says nothing was applied."""
    from acr_reconcile.errors import PlanError

    try:
        return _run(args)
    except PlanError as error:
        _plan_errors(error, args)
        return plan_command.EXIT_ERROR


def _plan_errors(error: PlanError, args: argparse.Namespace) -> None:
    from acr_reconcile.console import print_error

    if args.output == "json":  # the machine view carries them too, as plan events do
        from acr_reconcile.apply.report import JsonProgress, diagnostic_event

        events = JsonProgress(sys.stdout)
        for diagnostic in error.diagnostics:
            events.emit(diagnostic_event(diagnostic))
    plan_command.print_findings(error.diagnostics)
    count = len(error.diagnostics)
    print_error(f"the plan has {count} error(s); nothing was applied")


def _run(args: argparse.Namespace) -> int:
    from acr_reconcile.commands.connection import connect
    from acr_reconcile.plan.planfile import is_plan_file, refuse_plan_files

    plan_command.check_parallelism(args.parallelism)
    saved = args.spec[0] if len(args.spec) == 1 and is_plan_file(args.spec[0]) else None
    if saved is None:
        refuse_plan_files(args.spec, "apply")
        if args.branch_spec:
            from acr_reconcile.errors import ConfigError

            raise ConfigError("--spec checks a saved plan: use it as `apply PLANFILE --spec PATH`")
    with connect() as connection:
        plan: Plan | None
        if saved:
            plan, live = _apply_saved(saved, connection, args)
            _check_destroy(plan, args.allow_destroy_trust)
        else:
            plan, live = _plan_fresh(connection, args)
        if plan is not None and not plan.has_changes:
            print("No changes. Live state matches the saved plan.", file=_side(args))
        if plan is None or not plan.has_changes:  # the rendered plan said "no changes"
            if plan is not None:
                _record_only(plan, connection, args)
            _nothing_to_do(args)
            return plan_command.EXIT_OK
        from acr_reconcile.apply.migration import MigrationLedger

        ledger = MigrationLedger()
        ctx = _context(plan, connection, args, ledger)
        try:
            _require_signing_ready(plan, ctx, args)  # before the first write, as require_ready
            _write_evidence(plan, live, args, ledger)
            result = _execute(plan, ctx, args)
        finally:
            _close_signers(ctx)
        _summary(plan, result, args)
        if result.interrupted:
            return _interrupted(result, args)
    return plan_command.EXIT_OK


def _write_evidence(
    plan: Plan, live: LiveState, args: argparse.Namespace, ledger: MigrationLedger
) -> None:
    """The DCT inventory of a migration, on disk before the first change of the run."""
    from datetime import UTC, datetime

    from acr_reconcile.apply.evidence import write_dct_evidence

    today = datetime.now(UTC).date()
    write_dct_evidence(plan, live, args.dct_inventory, today, _side(args), ledger)


def _interrupted(result: ApplyResult, args: argparse.Namespace) -> int:
    from acr_reconcile.apply.executor import NOT_STARTED
    from acr_reconcile.apply.interrupts import EXIT_INTERRUPTED

    left = [r.address for r in result.results if r.note == NOT_STARTED]
    if args.output != "json":
        print(
            f"Interrupted: {len(left)} action(s) not started"
            + (f" ({', '.join(left)})" if left else "")
            + "; run apply again to finish: it converges from here.",
            file=_side(args),
        )
    return EXIT_INTERRUPTED


def _record_only(plan: Plan, connection: Connection, args: argparse.Namespace) -> None:
    """Nothing to change, but a registry may still lack the record of this spec (a run
    ended between its last change and the record): write it, as a full run would have."""
    from acr_reconcile.apply.applied import record_applied
    from acr_reconcile.apply.context import ApplyContext
    from acr_reconcile.apply.executor import ApplyResult

    ctx = ApplyContext(session=connection.session, allow_destroy_trust=args.allow_destroy_trust)
    record_applied(plan, ApplyResult(()), ctx)


def _nothing_to_do(args: argparse.Namespace) -> None:
    if args.output == "json":
        from acr_reconcile.apply.report import JsonProgress, Outcome

        JsonProgress(sys.stdout).summary(Outcome(0, 0, 0, 0, 0))
