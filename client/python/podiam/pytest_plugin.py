"""pytest plugin: one podiam for the session, isolation per test, a report for CI.

Fixtures:
  podiam_server   (session) the podiam process: started on free ports with --state
                  :memory: (PODIAM_BIN or --podiam-bin; --podiam-fixtures FILE), or the
                  running one at --podiam-endpoint / $PODIAM_ENDPOINT. Stopped at the end.
  podiam          (function) the same podiam, isolated: a snapshot is taken before the test
                  and restored after it, so what the test changes is gone and what was there
                  (session or module setup) stays. `podiam.test_mark` is the decision-log mark
                  taken at the start of the test. The restore replaces the whole state: when
                  several pytest processes share one podiam (--podiam-endpoint), isolate
                  with podiam_account instead.
  podiam_account  (function) a fresh whole account (root keys, `.client("s3")`), deleted
                  after the test: parallel tests that share one podiam never see each other.

Options: --podiam-report PATH writes, at the end of the session, the decision report of every
call the session made (what was allowed by which statement, never-used statements, denials,
least-privilege policies) as JSON, for a CI artefact.

Load it with `-p podiam.pytest_plugin` (or `pytest_plugins = ["podiam.pytest_plugin"]` in a
conftest.py) when podiam's Python package is on PYTHONPATH; an installed package registers it
by itself (entry point pytest11).
"""
import hashlib
import json
import os
import re

import pytest

from .server import Podiam


def pytest_addoption(parser):
    g = parser.getgroup("podiam")
    g.addoption("--podiam-bin", default=None, help="the podiam binary (else $PODIAM_BIN, PATH)")
    g.addoption("--podiam-endpoint", default=None,
                help="use a running podiam (else $PODIAM_ENDPOINT; default: start one)")
    g.addoption("--podiam-fixtures", action="append", default=[],
                help="fixtures file for the podiam the session starts (repeatable)")
    g.addoption("--podiam-report", default=None,
                help="write the session's decision report (JSON) to this file at the end")


@pytest.fixture(scope="session")
def podiam_server(request):
    cfg = request.config
    endpoint = cfg.getoption("--podiam-endpoint") or os.environ.get("PODIAM_ENDPOINT")
    if endpoint:
        p = Podiam.connect(endpoint)
    else:
        p = Podiam.start(binary=cfg.getoption("--podiam-bin"),
                         fixtures=cfg.getoption("--podiam-fixtures"))
    p.session_mark = p.mark()
    yield p
    path = cfg.getoption("--podiam-report")
    try:
        if path:
            report = p.report(since=p.session_mark, allow_partial=True)
            with open(path, "w") as f:
                json.dump(report, f, indent=2)
                f.write("\n")
    finally:
        if not endpoint:
            p.stop()


def _snapshot_name(nodeid):
    """A snapshot name of the test: readable, and unique even when pytest processes (xdist
    workers, parallel jobs) share one podiam."""
    tag = hashlib.sha256(("%d %s" % (os.getpid(), nodeid)).encode()).hexdigest()[:12]
    return "pytest-%s-%s" % (tag, re.sub(r"[^A-Za-z0-9._-]+", "-", nodeid)[-40:].strip("-."))


@pytest.fixture
def podiam(podiam_server, request):
    name = _snapshot_name(request.node.nodeid)
    podiam_server.snapshot(name)
    podiam_server.test_mark = podiam_server.mark()
    try:
        yield podiam_server
    finally:
        podiam_server.restore(name)
        podiam_server.delete_snapshot(name)


@pytest.fixture
def podiam_account(podiam_server):
    account = podiam_server.create_account()
    try:
        yield account
    finally:
        account.delete()
