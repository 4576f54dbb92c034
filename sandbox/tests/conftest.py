"""Session-wide fixtures: ``sandbox``, one local Azure for the whole session (see
``acr_sandbox.pytest_plugin``)."""

pytest_plugins = ["acr_sandbox.pytest_plugin"]
