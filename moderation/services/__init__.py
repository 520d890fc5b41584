"""The services: the code that reads and commits, under every blueprint and command.

They raise errors.py's exceptions, never return responses, and import nothing from
the blueprints or from reader/ (tests/test_architecture.py checks it).
"""
