"""Fuzzing of the two parsers that read untrusted input: spec files (from pull requests) and
Notary/TUF trust data (from a server, from the local trust cache and key files).

``python -m tests.fuzz`` (``make fuzz``) runs the atheris harnesses for a bounded time each;
the hypothesis properties in ``tests/unit/fuzz`` run the same checks inside ``make test``.
Importing this package never needs atheris: only the fuzzing entry points load it.
"""
