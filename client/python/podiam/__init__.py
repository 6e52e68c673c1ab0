"""podiam test helpers: start podiam, isolate tests (snapshots, fresh accounts), wire boto3
to it, and assert on its decision log. Works as a plain library; `podiam.pytest_plugin` is
the pytest plugin (fixtures `podiam_server`, `podiam`, `podiam_account`).

See docs/testing-with-podiam.md in the podiam repository.
"""
from .decisions import Decisions, describe
from .server import Account, Podiam, PodiamError, find_binary, start_many

__all__ = ["Account", "Decisions", "Podiam", "PodiamError", "describe", "find_binary",
           "start_many"]
__version__ = "0.1.0"
