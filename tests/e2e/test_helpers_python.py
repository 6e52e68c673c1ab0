"""The Python test helpers (client/python): installed from the checkout with pip and no
registry, and their own pytest suite (client/python/tests) run by real pytest and boto3,
two sessions at once, each starting its own podiam (parallel instances, snapshots per test,
fresh accounts, decision assertions, the least-privilege round trip), each writing its
decision report for CI."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

from podiam_harness import ROOT, podiam_binary

PKG = os.path.join(ROOT, "client", "python")


def python_with_pytest():
    """A python3 that has pytest and boto3 (Debian's /usr/bin/python3 with python3-pytest
    and python3-boto3, or the one running this), or None."""
    for py in (sys.executable, "/usr/bin/python3"):
        if py and os.path.exists(py) and subprocess.run(
                [py, "-c", "import pytest, boto3"], capture_output=True).returncode == 0:
            return py
    return None


PY = python_with_pytest()


@unittest.skipUnless(PY, "no python3 with both pytest and boto3 (Debian: python3-pytest, "
                         "python3-boto3)")
class PythonHelpers(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="podiam-pyhelpers-")
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def env(self, **kw):
        e = dict(os.environ, PODIAM_BIN=os.path.abspath(podiam_binary()), PYTHONDONTWRITEBYTECODE="1",
                 HOME=self.tmp)
        for k in ("PODIAM_ENDPOINT", "AWS_ENDPOINT_URL", "AWS_PROFILE", "PYTHONPATH"):
            e.pop(k, None)
        e.update(kw)
        return e

    def install(self):
        """pip install from a copy of the checkout (setuptools writes build/ and egg-info
        beside the sources), offline: --no-index, --no-build-isolation."""
        if subprocess.run([PY, "-m", "pip", "--version"], capture_output=True).returncode:
            self.skipTest("%s has no pip (Debian: python3-pip)" % PY)
        src = os.path.join(self.tmp, "src")
        shutil.copytree(PKG, src, ignore=shutil.ignore_patterns("__pycache__", "build",
                                                                 "*.egg-info"))
        target = os.path.join(self.tmp, "site")
        r = subprocess.run([PY, "-m", "pip", "install", "--quiet", "--no-index",
                            "--no-build-isolation", "--no-deps", "--target", target, src],
                           capture_output=True, text=True, env=self.env(), timeout=300)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertTrue(os.path.exists(os.path.join(target, "podiam", "pytest_plugin.py")))
        return target

    def pytest(self, name, pythonpath, extra):
        report = os.path.join(self.tmp, name + ".json")
        cmd = [PY, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o",
               "cache_dir=" + self.tmp, os.path.join(PKG, "tests"), "--podiam-report",
               report] + extra
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True, env=self.env(PYTHONPATH=pythonpath), cwd=self.tmp)
        return proc, report

    def test_installed_and_from_the_checkout_in_parallel(self):
        site = self.install()
        # installed: pytest finds the plugin by its entry point; from the checkout: -p
        runs = [self.pytest("installed", site, []),
                self.pytest("checkout", PKG, ["-p", "podiam.pytest_plugin"])]
        for proc, report in runs:
            out, _ = proc.communicate(timeout=600)
            self.assertEqual(proc.returncode, 0, out)
            self.assertRegex(out, r"\b10 passed\b", out)
            with open(report) as f:
                r = json.load(f)
            self.assertTrue(r["complete"], r)
            by = {p["principal"]: p for p in r["principals"]}
            app = by["arn:aws:iam::000000000000:role/app"]
            self.assertIn("s3:PutObject", {a["action"] for a in app["allowed"]})
            self.assertIn("s3:DeleteObject", {d["action"] for d in app["denied"]})
            self.assertIn("least_privilege", app)

    def test_plain_library(self):
        """Without pytest: start, snapshot, restore, stop, with the checkout on the path."""
        code = r"""
import sys
from podiam import Podiam
with Podiam.start() as p:
    s3 = p.client("s3")
    p.snapshot("empty")
    s3.create_bucket(Bucket="b-1")
    r = p.restore("empty")
    assert s3.list_buckets()["Buckets"] == [], "restore did not empty"
    print("restored in", r["ms"], "ms")
"""
        r = subprocess.run([PY, "-c", code], capture_output=True, text=True,
                           env=self.env(PYTHONPATH=PKG), timeout=120, cwd=self.tmp)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("restored in", r.stdout)


if __name__ == "__main__":
    unittest.main()
