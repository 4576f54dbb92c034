"""Role assignments: create under the deterministic name, or delete (prune).

A create first looks for an assignment of the same principal and role at the same scope
(whatever its name) and adopts it; a 409 ``RoleAssignmentExists`` means the same and is
success. ``PrincipalNotFound`` for a freshly made principal is Entra replication lag:
the error is marked transient and the outer retry re-runs the create within the
replication window only, then reports it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from acr_reconcile.apply import retry
from acr_reconcile.apply.context import ApplyContext
from acr_reconcile.azure.errors import error_code, translate
from acr_reconcile.azure.paging import PageGuard, all_items
from acr_reconcile.errors import ConfigError
from acr_reconcile.plan.model import Action, Change, RoleAssignmentParams


def _existing(
    client: Any, guard: PageGuard, scope: str, principal_id: str, role_guid: str
) -> Any | None:
    pages = client.role_assignments.list_for_scope(scope, filter=f"principalId eq '{principal_id}'")
    for assignment in all_items(pages, guard):
        same_scope = str(assignment.scope or "").rstrip("/").lower() == scope.rstrip("/").lower()
        guid = str(assignment.role_definition_id or "").rsplit("/", 1)[-1].lower()
        if same_scope and guid == role_guid:
            return assignment
    return None


def _create(change: Change, ctx: ApplyContext) -> str:
    from azure.core.exceptions import HttpResponseError, ResourceExistsError
    from azure.mgmt.authorization.v2022_04_01.models import RoleAssignmentCreateParameters

    params = change.params_as(RoleAssignmentParams)
    if params.role_definition_id is None:
        raise ConfigError(f"{change.address}: a role assignment to create names no role definition")
    scope, name, principal_id = params.scope, params.name, params.principal_id
    role_guid = params.role_definition_guid
    client = ctx.session.authorization(params.subscription_id)
    # an unknown type (the caller's, from a token without idtyp) is left for ARM to find
    typed = {"principal_type": params.principal_type} if params.principal_type else {}
    body = RoleAssignmentCreateParameters(
        role_definition_id=params.role_definition_id, principal_id=principal_id, **typed
    )

    doing = "assigning the role"

    def attempt() -> str:
        guard = PageGuard(ctx.session.cloud.resource_manager, f"role assignments at {scope}")
        if _existing(client, guard, scope, principal_id, role_guid) is not None:
            return "already assigned"
        try:
            client.role_assignments.create(scope, name, body)
        except ResourceExistsError as error:
            if error_code(error) == "RoleAssignmentExists":
                return "already assigned"
            raise
        except HttpResponseError as error:
            if error_code(error) == "PrincipalNotFound":  # not replicated yet: wait for it
                raise translate(error, change.resource_id, doing, transient=True) from None
            raise
        return "assigned"

    policy = replace(ctx.retry, window=ctx.replication_window)
    return retry.call(attempt, change.resource_id, doing, policy)


def _delete(change: Change, ctx: ApplyContext) -> str:
    from azure.core.exceptions import HttpResponseError

    params = change.params_as(RoleAssignmentParams)
    caller = (ctx.caller_object_id or "").lower()
    if caller and params.principal_id.lower() == caller:
        # decided here, for the identity running apply: a plan made by another identity
        # (a pull-request job) cannot know it, and removing it would lock this run out
        return (
            "kept: it is the identity running apply, which never prunes its own access "
            "(remove it by hand if meant)"
        )
    client = ctx.session.authorization(params.subscription_id)

    def attempt() -> str:
        try:
            deleted = client.role_assignments.delete_by_id(change.resource_id)
        except HttpResponseError as error:
            if error.status_code == 404:
                return "already removed"
            raise
        return "removed" if deleted is not None else "already removed"

    return retry.call(attempt, change.resource_id, "removing the role assignment", ctx.retry)


def apply(changes: Sequence[Change], ctx: ApplyContext) -> str:
    change = changes[0]
    if change.action is Action.DELETE:
        return _delete(change, ctx)
    return _create(change, ctx)
