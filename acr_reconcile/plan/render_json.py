"""``--output json``: the plan as the versioned document described in docs/plan-json.md.

``format_version`` follows Terraform's rule: a minor bump only adds (fields, enum values
consumers must tolerate), a major bump may change or remove; consumers check the major.
"""

from __future__ import annotations

import json

from acr_reconcile.plan.codec import plan_to_dict
from acr_reconcile.plan.model import Plan


def render_json(plan: Plan) -> str:
    """The plan as pretty, key-ordered JSON text ending in a newline."""
    return json.dumps(plan_to_dict(plan), indent=2, ensure_ascii=False) + "\n"
