"""One module per CLI command: ``add_parser(subparsers)`` and ``run(args) -> exit code``.

Modules import only argparse at top level; heavy imports live inside ``run``.
``connection.py`` is not a command: it is the composition root the commands share, the
one place that wires every lower layer together.
"""
