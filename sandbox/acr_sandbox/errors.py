"""The emulator's one error type.

The sandbox is its own distribution and meets the tool only over the wire, so it keeps
its own error rather than borrowing the tool's hierarchy: a failure here is reported by
the sandbox's command line, never caught by the tool's planner or executor.
"""

from __future__ import annotations


class SandboxError(Exception):
    """The local sandbox cannot start, or one of its parts is missing or unhealthy."""
