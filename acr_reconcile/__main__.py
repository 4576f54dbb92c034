"""``python -m acr_reconcile`` is the same as the ``acr-reconcile`` command."""

from acr_reconcile.cli import main

raise SystemExit(main())
