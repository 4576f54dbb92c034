"""The sandbox's Azure Resource Manager: subscriptions, resource groups, container
registries, role assignments and definitions, cloud metadata."""
