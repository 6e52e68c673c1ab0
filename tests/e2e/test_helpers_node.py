"""The Node test helpers (client/node): installed with npm from the checkout and no
registry, used from a project with the real JS SDK v3, and their own node:test suite
(client/node/test: two podiams in parallel, a snapshot per test, fresh accounts, decision
assertions, the least-privilege round trip)."""
import os
import shutil
import subprocess
import tempfile
import unittest

from podiam_harness import HERE, ROOT, podiam_binary

PKG = os.path.join(ROOT, "client", "node")
SDK = os.path.join(HERE, "js")
NODE = shutil.which("node") or shutil.which("nodejs")
NPM = shutil.which("npm")


def sdk_missing():
    if not NODE:
        return "node is not installed"
    if not os.path.isdir(os.path.join(SDK, "node_modules", "@aws-sdk", "client-s3")):
        return "the JS SDK v3 is not installed in tests/e2e/js (.ci/setup installs it)"
    return None


@unittest.skipIf(sdk_missing(), sdk_missing() or "")
class NodeHelpers(unittest.TestCase):
    def env(self, home):
        e = {k: v for k, v in os.environ.items()
             if not k.startswith("AWS_") and k != "PODIAM_ENDPOINT"}
        e.update(PODIAM_BIN=os.path.abspath(podiam_binary()), HOME=home,
                 npm_config_cache=os.path.join(home, "npm-cache"))
        return e

    def test_own_suite(self):
        home = tempfile.mkdtemp(prefix="podiam-nodehelpers-")
        self.addCleanup(shutil.rmtree, home, True)
        r = subprocess.run([NODE, "--test", "test/podiam.test.mjs"], cwd=PKG, capture_output=True, text=True,
                           env=self.env(home), timeout=600)
        self.assertEqual(r.returncode, 0, r.stdout[-6000:] + r.stderr[-3000:])
        self.assertRegex(r.stdout, r"# pass 8\b")
        self.assertRegex(r.stdout, r"# (fail|skipped) 0\b")

    @unittest.skipUnless(NPM, "npm is not installed")
    def test_npm_install_from_the_checkout(self):
        """`npm install <checkout>/client/node` offline in a new project, which then starts
        podiam and uses its SDK through the helpers."""
        proj = tempfile.mkdtemp(prefix="podiam-nodeproj-")
        self.addCleanup(shutil.rmtree, proj, True)
        with open(os.path.join(proj, "package.json"), "w") as f:
            f.write('{"name": "app", "version": "1.0.0", "private": true, "type": "module"}\n')
        r = subprocess.run([NPM, "install", "--offline", "--no-audit", "--no-fund",
                            "--loglevel=error", PKG], cwd=proj, capture_output=True, text=True,
                           env=self.env(proj), timeout=300)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        # the project's own SDK: the one tests/e2e/js installed
        os.symlink(os.path.join(SDK, "node_modules", "@aws-sdk"),
                   os.path.join(proj, "node_modules", "@aws-sdk"))
        for d in os.listdir(os.path.join(SDK, "node_modules")):
            if not d.startswith("@aws-sdk") and not os.path.exists(
                    os.path.join(proj, "node_modules", d)):
                os.symlink(os.path.join(SDK, "node_modules", d),
                           os.path.join(proj, "node_modules", d))
        with open(os.path.join(proj, "app.test.mjs"), "w") as f:
            f.write(APP_TEST)
        r = subprocess.run([NODE, "--test", "app.test.mjs"], cwd=proj, capture_output=True,
                           text=True, env=self.env(proj), timeout=300)
        self.assertEqual(r.returncode, 0, r.stdout[-4000:] + r.stderr[-3000:])
        self.assertRegex(r.stdout, r"# pass 2\b")


APP_TEST = r"""
import assert from "node:assert/strict";
import { before, after, beforeEach, afterEach, test } from "node:test";
import { S3Client, CreateBucketCommand, ListBucketsCommand } from "@aws-sdk/client-s3";
import { Podiam } from "podiam";

let p, undo;
before(async () => { p = await Podiam.start(); });
after(() => p.stop());
beforeEach(async () => { undo = await p.checkpoint(); });
afterEach(() => undo());

test("creates a bucket", async () => {
  const mark = await p.mark();
  await p.client(S3Client).send(new CreateBucketCommand({ Bucket: "app-data" }));
  await p.assertNoDenials(mark);
});

test("starts from the checkpoint", async () => {
  const out = await p.client(S3Client).send(new ListBucketsCommand({}));
  assert.deepEqual(out.Buckets || [], []);
});
"""


if __name__ == "__main__":
    unittest.main()
