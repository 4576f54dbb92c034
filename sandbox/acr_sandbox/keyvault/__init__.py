"""Azure Key Vault: the ``Microsoft.KeyVault/vaults`` resource provider on the ARM
listener, and every vault's data plane (keys, certificates, secrets) on its own hostname
``<vault>.vault.localhost:<port>`` behind Key Vault's 401 bearer challenge."""
