"""The README's quick-start lines, run as they are written.

The ```sh lines of README.md's sections "Two commands" + "Point clients at it" (one shell:
the second uses the podiam the first starts), and of "The pod-IAM flow in three commands"
(another shell), run in order in /bin/sh, so `eval` and `export` carry from line to line.
The shell runs in a directory that looks like the checkout (build/client/podiamctl is the
podiamctl under test; fixtures/ and scenarios/ are the project's), with HOME a fresh
directory and no AWS variables from the test's own environment. Two lines are not run as is:
  * `.ci/serve ARGS` becomes a podiam the harness starts on free ports with the same ARGS.
    The shell gets AWS_ENDPOINT_URL naming it (the address .ci/serve would have given,
    http://127.0.0.1:4566, is podiamctl's default) and nothing else; a literal
    http://127.0.0.1:4566 in a line becomes that podiam's address.
  * `.ci/run` (the suite this test is part of) is left out.
Every line must exit 0. A line whose comment starts with `arn:` must print that text (a
trailing "..." stands for the rest). The clients are those on PATH: in CI, Debian 12's aws
CLI, which reaches podiam only through the proxy and CA that `podiamctl env` exports.

The ready line quoted in the README must be the one podiam prints (with the default address).
"""
import os
import re
import shlex
import shutil
import subprocess
import tempfile
import unittest

from podiam_harness import ROOT, Podiam, podiamctl_binary

README = os.path.join(ROOT, "README.md")
DEFAULT = "http://127.0.0.1:4566"
MARK = "@@readme-line-done"


def section(text, title):
    m = re.search(r"^## %s\n(.*?)(?=^## |\Z)" % re.escape(title), text, re.M | re.S)
    if not m:
        raise AssertionError("README.md has no section '## %s'" % title)
    return m.group(1)


def sh_lines(body):
    """The non-empty, non-comment lines of the ```sh blocks of a section."""
    out = []
    for block in re.findall(r"^```sh\n(.*?)^```", body, re.M | re.S):
        out += [ln for ln in block.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    return out


def split_comment(line):
    """(command, comment) of a shell line: the comment is what follows an unquoted '#'."""
    # a '#' that starts a word outside quotes, the shell's rule
    quote = None
    for i, ch in enumerate(line):
        if quote:
            if ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (i == 0 or line[i - 1] in " \t"):
            return line[:i].rstrip(), line[i + 1:].strip()
    return line.rstrip(), ""


class ReadmeTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        with open(README) as f:
            cls.readme = f.read()
        cls.work = tempfile.mkdtemp(prefix="podiam-readme-")
        os.makedirs(os.path.join(cls.work, "build", "client"))
        os.symlink(os.path.abspath(podiamctl_binary()),
                   os.path.join(cls.work, "build", "client", "podiamctl"))
        for d in ("fixtures", "scenarios"):
            os.symlink(os.path.join(ROOT, d), os.path.join(cls.work, d))

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.work, ignore_errors=True)

    def run_section(self, *titles):
        """The ```sh lines of the sections, in order, in one shell."""
        lines = []
        for title in titles:
            got = sh_lines(section(self.readme, title))
            self.assertTrue(got, "no ```sh lines in '%s'" % title)
            lines += got
        p = None
        script = []
        checks = []  # (line, expected text or None)
        try:
            for line in lines:
                cmd, comment = split_comment(line)
                words = shlex.split(cmd)
                if words[0] == ".ci/run":
                    continue  # the test command itself
                if words[0] == ".ci/serve":
                    self.assertIsNone(p, "two .ci/serve lines in one section")
                    args = [os.path.join(ROOT, a) if os.path.exists(os.path.join(ROOT, a))
                            else a for a in words[1:]]
                    p = Podiam.start(*args)
                    continue
                self.assertIsNotNone(p, "a command before .ci/serve: " + line)
                expect = None
                if comment.startswith("arn:"):
                    expect = re.sub(r"(\.\.\.|…)$", "", comment.split()[0])
                script.append(cmd.replace(DEFAULT, p.endpoint))
                script.append("rc=$?; echo; echo %s $rc" % MARK)
                checks.append((line, expect))
            env = {k: v for k, v in p.client_env().items()
                   if not k.startswith("AWS_") or k in ("AWS_CONFIG_FILE",
                                                        "AWS_SHARED_CREDENTIALS_FILE")}
            env["AWS_ENDPOINT_URL"] = p.endpoint  # where .ci/serve's podiam would be found
            r = subprocess.run(["/bin/sh", "-c", "\n".join(script)], cwd=self.work, env=env,
                               capture_output=True, text=True, timeout=600)
            parts = re.split(r"\n%s (\d+)\n" % MARK, r.stdout)
            self.assertEqual(len(parts), 2 * len(checks) + 1,
                             "the shell stopped early:\n%s\n%s" % (r.stdout, r.stderr))
            for i, (line, expect) in enumerate(checks):
                out, rc = parts[2 * i], int(parts[2 * i + 1])
                self.assertEqual(rc, 0, "README line failed (%d): %s\n%s\n%s\n--- podiam log "
                                 "---\n%s" % (rc, line, out, r.stderr, p.logs()[-3000:]))
                if expect:
                    self.assertIn(expect, out, "README line: " + line)
        finally:
            if p:
                p.stop()

    def test_two_commands_and_a_client(self):
        """.ci/serve (then .ci/run, left out), then the lines of "Point clients at it"."""
        self.run_section("Two commands", "Point clients at it")

    def test_pod_iam_flow(self):
        self.run_section("The pod-IAM flow in three commands")

    def test_ready_line_is_quoted(self):
        p = Podiam.start()
        p.stop()
        export = p.ready_line.split(" -- ", 1)[1].strip()  # what podiam printed after " -- "
        self.assertIn("AWS_DEFAULT_REGION=us-east-1", export)
        self.assertIn("\n%s\n" % export.replace(p.endpoint, DEFAULT), self.readme)


if __name__ == "__main__":
    unittest.main()
