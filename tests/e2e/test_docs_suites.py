"""docs/testing-with-podiam.md's examples, run as written.

Every fenced block preceded by `<!-- file: PATH (tested) -->` or `(checked)` is written to
PATH in a fresh project directory that has this checkout's podiam at podiam/ (symlinks to
build/, client/). Then:
  * ci/podiam-suite.sh runs tests/smoke.sh (the aws CLI), the pytest example (real pytest,
    boto3) and the node:test example (the JS SDK v3), each against the podiam it starts;
    each run must pass and leave podiam-report/ with a complete report;
  * the GitHub Actions and GitLab CI definitions must parse and build podiam, cache its
    build, run ci/podiam-suite.sh and keep podiam-report/ (no CI service runs offline).
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

from podiam_harness import HERE, ROOT, podiam_binary, podiamctl_binary

DOC = os.path.join(ROOT, "docs", "testing-with-podiam.md")
BLOCK = re.compile(r"^<!-- file: (\S+) \((tested|checked)\) -->\n```\w*\n(.*?)^```", re.M | re.S)
SDK = os.path.join(HERE, "js", "node_modules")


def doc_files():
    with open(DOC) as f:
        return {m.group(1): (m.group(2), m.group(3)) for m in BLOCK.finditer(f.read())}


def python_with_pytest():
    for py in (sys.executable, "/usr/bin/python3"):
        if py and os.path.exists(py) and subprocess.run(
                [py, "-c", "import pytest, boto3"], capture_output=True).returncode == 0:
            return py
    return None


class DocExamples(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.files = doc_files()
        cls.proj = tempfile.mkdtemp(prefix="podiam-docproj-")
        for path, (_, text) in cls.files.items():
            full = os.path.join(cls.proj, path)
            os.makedirs(os.path.dirname(full), exist_ok=True)
            with open(full, "w") as f:
                f.write(text)
        # podiam/ as the examples expect it: the binaries under test and the helpers
        pod = os.path.join(cls.proj, "podiam")
        for sub in ("client/python", "client/node"):
            os.makedirs(os.path.dirname(os.path.join(pod, sub)), exist_ok=True)
            os.symlink(os.path.join(ROOT, sub), os.path.join(pod, sub))
        for name, src in (("emulator/podiam", podiam_binary()),
                          ("client/podiamctl", podiamctl_binary())):
            dst = os.path.join(pod, "build", name)
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            os.symlink(os.path.abspath(src), dst)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.proj, ignore_errors=True)

    def env(self, report_dir, **kw):
        e = {k: v for k, v in os.environ.items()
             if not k.startswith("AWS_") and k not in ("PODIAM_ENDPOINT", "PYTHONPATH")}
        e.pop("PODIAM_BIN", None)
        e.pop("PODIAMCTL_BIN", None)
        home = os.path.join(self.proj, "home")
        os.makedirs(home, exist_ok=True)
        e.update(HOME=home, PODIAM_REPORT_DIR=report_dir, PYTHONDONTWRITEBYTECODE="1",
                 AWS_CONFIG_FILE=os.path.join(home, "none"), AWS_PAGER="",
                 AWS_SHARED_CREDENTIALS_FILE=os.path.join(home, "none"))
        e.update(kw)
        return e

    def suite(self, name, *cmd, **env):
        """sh ci/podiam-suite.sh CMD in the project; returns the report (JSON)."""
        report_dir = os.path.join(self.proj, "report-" + name)
        r = subprocess.run(["sh", "ci/podiam-suite.sh"] + list(cmd), cwd=self.proj,
                           capture_output=True, text=True, env=self.env(report_dir, **env),
                           timeout=600)
        log = ""
        if os.path.exists(os.path.join(report_dir, "podiam.log")):
            with open(os.path.join(report_dir, "podiam.log")) as f:
                log = f.read()[-3000:]
        self.assertEqual(r.returncode, 0, r.stdout[-4000:] + r.stderr[-4000:] + log)
        with open(os.path.join(report_dir, "report.json")) as f:
            report = json.load(f)
        with open(os.path.join(report_dir, "report.txt")) as f:
            self.assertRegex(f.read(), r"^decisions d-[0-9]+\.\.d-[0-9]+: [0-9]+")
        self.assertTrue(report["complete"])
        return r, report

    def test_every_block_is_found(self):
        self.assertEqual(sorted(self.files), sorted([
            "tests/test_example.py", "test/app.test.mjs", "ci/podiam-suite.sh",
            "tests/smoke.sh", ".github/workflows/podiam.yml", ".gitlab-ci.yml"]))

    @unittest.skipUnless(shutil.which("aws"), "no aws CLI")
    def test_shell_suite(self):
        _, report = self.suite("shell", "sh", "tests/smoke.sh")
        root = [p for p in report["principals"] if p["principal"].endswith(":root")]
        self.assertTrue(root, report)
        actions = {a["action"] for a in root[0]["allowed"]}
        self.assertTrue({"s3:CreateBucket", "s3:PutObject", "s3:ListBucket"} <= actions,
                        actions)

    def test_pytest_suite(self):
        py = python_with_pytest()
        if not py:
            self.skipTest("no python3 with pytest and boto3 (Debian: python3-pytest)")
        r, report = self.suite("pytest", py, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                               "-p", "podiam.pytest_plugin", "tests/",
                               PYTHONPATH="podiam/client/python")
        self.assertRegex(r.stdout, r"\b4 passed\b", r.stdout)
        by = {p["principal"]: p for p in report["principals"]}
        up = by["arn:aws:iam::000000000000:user/uploader"]
        self.assertEqual([d["action"] for d in up["denied"]], ["s3:DeleteObject"])
        self.assertEqual(up["least_privilege"]["Statement"][0]["Action"], "s3:PutObject")

    def test_node_suite(self):
        node = shutil.which("node")
        if not node or not os.path.isdir(os.path.join(SDK, "@aws-sdk", "client-s3")):
            self.skipTest("no node or no JS SDK in tests/e2e/js (.ci/setup installs it)")
        nm = os.path.join(self.proj, "node_modules")
        if not os.path.exists(nm):
            os.makedirs(nm)
            os.symlink(os.path.join(ROOT, "client", "node"), os.path.join(nm, "podiam"))
            for d in os.listdir(SDK):
                if not d.startswith("."):
                    os.symlink(os.path.join(SDK, d), os.path.join(nm, d))
        r, report = self.suite("node", node, "--test", "test/app.test.mjs")
        self.assertRegex(r.stdout, r"# pass 3\b", r.stdout)
        denied = [d for p in report["principals"] for d in p["denied"]]
        self.assertIn("s3:PutObject", [d["action"] for d in denied])

    def yaml(self, path):
        try:
            import yaml
        except ImportError:
            self.skipTest("no PyYAML (Debian: python3-yaml)")
        with open(os.path.join(self.proj, path)) as f:
            return yaml.safe_load(f)

    def test_github_actions_shape(self):
        wf = self.yaml(".github/workflows/podiam.yml")
        steps = wf["jobs"]["test"]["steps"]
        uses = [s.get("uses", "") for s in steps]
        runs = "\n".join(s.get("run", "") for s in steps)
        self.assertIn("actions/cache@v4", uses)
        cache = next(s for s in steps if s.get("uses") == "actions/cache@v4")
        self.assertEqual(cache["with"]["path"], "podiam/build")
        self.assertIn("cmake --build podiam/build", runs)
        self.assertIn("sh ci/podiam-suite.sh", runs)
        art = next(s for s in steps if s.get("uses", "").startswith("actions/upload-artifact"))
        self.assertEqual((art["if"], art["with"]["path"]), ("always()", "podiam-report/"))

    def test_gitlab_ci_shape(self):
        job = self.yaml(".gitlab-ci.yml")["test"]
        self.assertEqual(job["cache"]["paths"], ["podiam/build/"])
        self.assertIn("cmake --build podiam/build -j \"$(nproc)\" --target podiam podiamctl",
                      job["before_script"])
        self.assertTrue(any("sh ci/podiam-suite.sh" in s for s in job["script"]))
        self.assertEqual(job["artifacts"], {"when": "always", "paths": ["podiam-report/"]})


if __name__ == "__main__":
    unittest.main()
