"""acr-reconcile: declarative plan/apply for Azure Container Registry content trust."""

__version__ = "0.1.0"
