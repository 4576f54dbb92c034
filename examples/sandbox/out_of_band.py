"""Make an out-of-band change on the sandbox with the Azure SDK, as a colleague with the
portal would: here, enable the admin user of a registry. `plan` then reports drift.

Run in a shell with the sandbox exports:

    eval "$(acr-reconcile sandbox env)"
    python examples/sandbox/out_of_band.py resourcegroupdavid registrydavid

The exported variables alone are not enough for a hand-written SDK program: the sandbox
is a custom cloud, so the credential must skip Microsoft's instance discovery
(``disable_instance_discovery``) and the management client must be given the sandbox's
ARM endpoint (``base_url``), which `ARM_METADATA_HOSTNAME` names.
"""

from __future__ import annotations

import os
import sys

from azure.identity import ClientSecretCredential
from azure.mgmt.containerregistry import ContainerRegistryManagementClient
from azure.mgmt.containerregistry.models import (
    RegistryPropertiesUpdateParameters,
    RegistryUpdateParameters,
)


def main(group: str, name: str) -> None:
    arm = f"https://{os.environ['ARM_METADATA_HOSTNAME']}"
    credential = ClientSecretCredential(
        os.environ["AZURE_TENANT_ID"],
        os.environ["AZURE_CLIENT_ID"],
        os.environ["AZURE_CLIENT_SECRET"],
        authority=os.environ["AZURE_AUTHORITY_HOST"],
        disable_instance_discovery=True,  # a custom cloud: login.microsoftonline.com has no say
    )
    client = ContainerRegistryManagementClient(
        credential, os.environ["AZURE_SUBSCRIPTION_ID"], base_url=arm
    )
    update = RegistryUpdateParameters(
        properties=RegistryPropertiesUpdateParameters(admin_user_enabled=True)
    )
    registry = client.registries.begin_update(group, name, update).result()
    print(f"{registry.name}: adminUserEnabled = {registry.admin_user_enabled}")
    client.close()
    credential.close()


if __name__ == "__main__":
    main(*sys.argv[1:3])
