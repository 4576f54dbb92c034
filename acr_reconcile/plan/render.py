"""The plan renderers in one place: text (Terraform-like), JSON (versioned), markdown (PR).

Each lives in its own module; this one names them so a command can pick one by ``--output``.
"""

from __future__ import annotations

from acr_reconcile.plan.render_json import render_json
from acr_reconcile.plan.render_markdown import render_markdown
from acr_reconcile.plan.render_text import render_text, summary_table

__all__ = ["render_json", "render_markdown", "render_text", "summary_table"]
