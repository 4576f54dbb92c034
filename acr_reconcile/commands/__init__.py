"""One module per CLI command: ``add_parser(subparsers)`` and ``run(args) -> exit code``.

Modules import only argparse at top level; heavy imports live inside ``run``.
"""
