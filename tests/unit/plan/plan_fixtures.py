"""Plans of the walkthrough for renderer, plan-file and fingerprint tests.

Documents come from the real loader; live states are built directly from the dataclasses.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from acr_reconcile.live import state as s
from acr_reconcile.live.state import APPLIED_TAG
from acr_reconcile.plan import names
from acr_reconcile.plan.fingerprint import desired_fingerprint
from acr_reconcile.plan.model import Plan
from acr_reconcile.plan.planner import plan
from acr_reconcile.spec.document import SpecDocument
from acr_reconcile.spec.loader import load_text

SUB = "00000000-0000-0000-0000-000000000000"
OID = "aaaaaaaa-0000-0000-0000-000000000001"
DIGEST = "sha256:" + "ab" * 32

WALKTHROUGH = f"""\
apiVersion: acr-reconcile/v1
kind: RegistryTrust
subscriptionId: {SUB}
resourceGroup: {{name: resourcegroupdavid, location: westeurope}}
registry:
  name: registrydavid
  sku: Premium
  contentTrust: enabled
  adminUserEnabled: false
signers:
  - name: DavidServiceAccount
    principal: {{appId: 11111111-1111-1111-1111-111111111111}}
    principalType: ServicePrincipal
    roles: [AcrImageSigner, AcrPush]
images:
  - repository: hello-world
    tags: [signed]
    source: docker.io/library/hello-world:latest
"""

SECOND = (
    WALKTHROUGH.replace("registrydavid", "registryalpha").replace("images:", "x-:").split("x-:")[0]
)

LEGACY = s.PlatformRules(today=date(2026, 11, 24), new_trust_enablement_allowed=True)
TODAY = s.PlatformRules(today=date(2026, 11, 24), new_trust_enablement_allowed=False)


def documents(text: str = WALKTHROUGH) -> list[SpecDocument]:
    return load_text(text, "walkthrough.yaml")


def empty_live() -> s.LiveState:
    principal = s.LivePrincipal(
        OID, "11111111-1111-1111-1111-111111111111", "David", "ServicePrincipal"
    )
    found = s.PrincipalResolution(s.ResolutionStatus.FOUND, principal)
    return s.LiveState(principals={("appId", "11111111-1111-1111-1111-111111111111"): found})


def registry_data(doc: SpecDocument, *, admin: bool = False) -> s.LiveRegistryData:
    name = doc.spec.registry.name
    rid = names.registry_id(SUB, "resourcegroupdavid", name)
    reg = s.LiveRegistry(
        id=rid,
        name=name,
        resource_group="resourcegroupdavid",
        location="westeurope",
        sku="Premium",
        login_server=f"{name}.azurecr.io",
        admin_user_enabled=admin,
        trust_status="enabled",
        tags={APPLIED_TAG: desired_fingerprint(doc)},
    )
    roles = [
        s.LiveRoleAssignment(
            id=names.role_assignment_id(rid, names.role_assignment_name(rid, OID, guid)),
            name=names.role_assignment_name(rid, OID, guid),
            scope=rid,
            role_definition_guid=guid,
            principal_id=OID,
            principal_type="ServicePrincipal",
        )
        for guid in ("6cef56e8-d556-48e5-a04f-b8e64114680f", "8311e382-0749-4cb8-b61a-304f252e45ec")
    ]
    tag = s.LiveTag("hello-world", "signed", DIGEST, 525, s.TagTrust.SIGNED, DIGEST, 525)
    repo = s.LiveRepositoryTrust(
        "hello-world",
        f"{name}.azurecr.io/hello-world",
        True,
        signable_roles=("targets",),
        versions={"root": 1, "targets": 3, "snapshot": 3, "timestamp": 9},
    )
    return s.LiveRegistryData(
        registry=reg,
        role_assignments=tuple(roles),
        tags={("hello-world", "signed"): tag},
        repositories={"hello-world": repo},
    )


def synced_live(docs: list[SpecDocument], *, admin: bool = False) -> s.LiveState:
    group = s.LiveResourceGroup(
        names.resource_group_id(SUB, "resourcegroupdavid"), "resourcegroupdavid", "westeurope"
    )
    registries = {(SUB, d.spec.registry.name.lower()): registry_data(d, admin=admin) for d in docs}
    return replace(
        empty_live(),
        resource_groups={(SUB, "resourcegroupdavid"): group},
        registries=registries,
    )


def new_plan() -> Plan:
    """The walkthrough on an empty subscription, legacy rules: every kind of create."""
    return plan(documents(), empty_live(), LEGACY)


def synced_plan() -> Plan:
    docs = documents()
    return plan(docs, synced_live(docs), TODAY)
