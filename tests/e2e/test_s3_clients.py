"""The S3 clients people already use, from Debian, with their defaults against podiam:
rclone (copy, sync, check, multipart uploads, server-side copy, listing, deletes, cleanup),
s3cmd in both signature versions (sync up and down, multipart put and get, cp/mv, ls/du,
info, setacl, signurl fetched with curl, recursive delete) and restic (init, backup, check
with --read-data, snapshots, restore, a second incremental backup, forget --prune).
Each client is skipped by name where it is not installed (.ci/setup installs them)."""
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import unittest
import urllib.parse

from podiam_harness import Podiam

MB = 1024 * 1024


def client_env(home):
    """The environment of a client process: no proxy (podiam is on loopback), its own HOME."""
    env = {k: v for k, v in os.environ.items()
           if k.lower() not in ("http_proxy", "https_proxy", "all_proxy", "no_proxy")
           and not k.startswith("AWS_") and not k.startswith("RCLONE_")
           and not k.startswith("RESTIC_")}
    env["HOME"] = home
    return env


def make_tree(root, big=0):
    """A small tree of files (names with spaces, unicode, nesting, an empty file) and,
    with big, one file of that size (multipart for every client here)."""
    files = {
        "a.txt": b"alpha\n",
        "dir one/b.bin": os.urandom(3000),
        "dir one/sub/c.json": b'{"c": 1}',
        "\u00e9t\u00e9/d \u00fcml.txt": "d\u00fc".encode(),
        "empty": b"",
    }
    if big:
        files["big/blob.bin"] = os.urandom(big)
    for rel, data in files.items():
        p = os.path.join(root, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as f:
            f.write(data)
    return files


def read_tree(root):
    out = {}
    for d, _, names in os.walk(root):
        for n in names:
            p = os.path.join(d, n)
            with open(p, "rb") as f:
                out[os.path.relpath(p, root)] = f.read()
    return out


class ClientBase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.pd = Podiam.shared()
        cls.s3 = cls.pd.boto3("s3")
        cls.dir = tempfile.mkdtemp(prefix="podiam-clients-")
        cls.hostport = urllib.parse.urlsplit(cls.pd.endpoint).netloc

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    def run_tool(self, argv, env, timeout=300, check=True, stdin=None):
        p = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=timeout,
                           cwd=self.dir, input=stdin)
        if check and p.returncode != 0:
            raise AssertionError("%s failed (%d):\n%s\n%s\n--- podiam log ---\n%s" % (
                " ".join(argv), p.returncode, p.stdout[-3000:], p.stderr[-3000:],
                self.pd.logs()[-3000:]))
        return p

    def keys(self, bucket):
        out = []
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            out += [o["Key"] for o in page.get("Contents", [])]
        return out

    def assert_no_uploads_left(self, bucket):
        self.assertEqual(self.s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []), [])


@unittest.skipUnless(shutil.which("rclone"), "rclone needed (Debian package rclone)")
class Rclone(ClientBase):
    def rclone(self, *args, check=True):
        env = client_env(self.dir)
        env.update({
            "RCLONE_CONFIG": os.path.join(self.dir, "rclone.conf"),  # none: all from env
            "RCLONE_CONFIG_PD_TYPE": "s3",
            "RCLONE_CONFIG_PD_PROVIDER": "Other",
            "RCLONE_CONFIG_PD_ACCESS_KEY_ID": "test",
            "RCLONE_CONFIG_PD_SECRET_ACCESS_KEY": "test",
            "RCLONE_CONFIG_PD_ENDPOINT": self.pd.endpoint,
            "RCLONE_CONFIG_PD_REGION": "us-east-1",
        })
        return self.run_tool(["rclone", "--retries", "1", "--low-level-retries", "1"] +
                             list(args), env, check=check)

    def test_copy_sync_check_multipart(self):
        src = os.path.join(self.dir, "src")
        files = make_tree(src, big=12 * MB)
        self.rclone("mkdir", "pd:rclone-a")
        # the 12 MB file goes up in 5 MB parts
        self.rclone("copy", "--s3-upload-cutoff", "5M", "--s3-chunk-size", "5M", src,
                    "pd:rclone-a/tree")
        self.assertEqual(sorted(self.keys("rclone-a")),
                         sorted("tree/" + k for k in files))
        head = self.s3.head_object(Bucket="rclone-a", Key="tree/big/blob.bin")
        self.assertTrue(head["ETag"].endswith('-3"'), head["ETag"])  # multipart: 3 parts
        self.assert_no_uploads_left("rclone-a")
        # check compares sizes and hashes (MD5 from the ETag, or rclone's own metadata for
        # the multipart object)
        self.rclone("check", src, "pd:rclone-a/tree")
        ls = json.loads(self.rclone("lsjson", "-R", "--hash", "pd:rclone-a/tree").stdout)
        by = {e["Path"]: e for e in ls}
        self.assertEqual(by["a.txt"]["Hashes"]["md5"], hashlib.md5(b"alpha\n").hexdigest())
        self.assertEqual(by["big/blob.bin"]["Size"], 12 * MB)
        # a change, a new file and a removed one: sync makes the bucket match
        with open(os.path.join(src, "a.txt"), "wb") as f:
            f.write(b"alpha, changed\n")
        with open(os.path.join(src, "new.txt"), "wb") as f:
            f.write(b"new\n")
        os.remove(os.path.join(src, "dir one", "b.bin"))
        self.rclone("sync", src, "pd:rclone-a/tree")
        self.rclone("check", src, "pd:rclone-a/tree")
        self.assertNotIn("tree/dir one/b.bin", self.keys("rclone-a"))
        # a server-side copy to another bucket, and back down
        self.rclone("mkdir", "pd:rclone-b")
        self.rclone("copy", "pd:rclone-a/tree", "pd:rclone-b/copied")
        self.rclone("check", "pd:rclone-a/tree", "pd:rclone-b/copied")
        dst = os.path.join(self.dir, "dst")
        self.rclone("copy", "pd:rclone-b/copied", dst)
        self.assertEqual(read_tree(dst), read_tree(src))
        # cat, deletes, cleanup (lists multipart uploads), purge
        self.assertEqual(self.rclone("cat", "pd:rclone-a/tree/new.txt").stdout, "new\n")
        self.rclone("delete", "--include", "*.txt", "pd:rclone-a/tree")
        self.assertFalse([k for k in self.keys("rclone-a") if k.endswith(".txt")])
        self.rclone("cleanup", "pd:rclone-a")
        self.rclone("purge", "pd:rclone-a")
        self.rclone("purge", "pd:rclone-b")
        names = [b["Name"] for b in self.s3.list_buckets()["Buckets"]]
        self.assertNotIn("rclone-a", names)

    def test_lsd_and_errors(self):
        self.rclone("mkdir", "pd:rclone-c")
        self.assertIn("rclone-c", self.rclone("lsd", "pd:").stdout)
        # a missing key is an empty directory to rclone; a missing bucket is an error
        self.assertEqual(self.rclone("lsf", "pd:rclone-c/missing").stdout, "")
        p = self.rclone("lsf", "pd:rclone-nosuch", check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("directory not found", p.stderr)
        self.rclone("rmdir", "pd:rclone-c")


@unittest.skipUnless(shutil.which("s3cmd"), "s3cmd needed (Debian package s3cmd)")
class S3cmd(ClientBase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.cfg = {}
        for v in ("v2", "v4"):
            path = os.path.join(cls.dir, "s3cfg-" + v)
            with open(path, "w") as f:
                f.write("[default]\naccess_key = test\nsecret_key = test\nhost_base = %s\n"
                        "host_bucket = %s\nuse_https = False\nsignature_v2 = %s\n"
                        "bucket_location = us-east-1\n"
                        % (cls.hostport, cls.hostport, "True" if v == "v2" else "False"))
            cls.cfg[v] = path

    def s3cmd(self, v, *args, check=True):
        return self.run_tool(["s3cmd", "-c", self.cfg[v]] + list(args), client_env(self.dir),
                             check=check).stdout

    def test_sync_multipart_acl_signurl(self):
        for v in ("v2", "v4"):
            with self.subTest(signature=v):
                self.round_trip(v)

    def round_trip(self, v):
        b = "s3cmd-sync-" + v
        src = os.path.join(self.dir, "src-" + v)
        files = make_tree(src, big=12 * MB)
        self.s3cmd(v, "mb", "s3://" + b)
        self.s3cmd(v, "sync", "--multipart-chunk-size-mb=5", src + "/", "s3://%s/t/" % b)
        self.assertEqual(sorted(self.keys(b)), sorted("t/" + k for k in files))
        head = self.s3.head_object(Bucket=b, Key="t/big/blob.bin")
        self.assertTrue(head["ETag"].endswith('-3"'), head["ETag"])
        self.assert_no_uploads_left(b)
        # a second sync finds nothing to do; a changed file goes up again
        out = self.s3cmd(v, "sync", "--dry-run", src + "/", "s3://%s/t/" % b)
        self.assertNotIn("upload:", out)
        with open(os.path.join(src, "a.txt"), "wb") as f:
            f.write(b"changed\n")
        out = self.s3cmd(v, "sync", "--delete-removed", src + "/", "s3://%s/t/" % b)
        self.assertIn("a.txt", out)
        # down again, multipart get included
        dst = os.path.join(self.dir, "dst-" + v)
        os.makedirs(dst)
        self.s3cmd(v, "sync", "s3://%s/t/" % b, dst + "/")
        self.assertEqual(read_tree(dst), read_tree(src))
        # listing, sizes, info, copies and moves
        ls = self.s3cmd(v, "ls", "--recursive", "s3://%s/" % b)
        self.assertIn("t/dir one/sub/c.json", ls)
        total = sum(len(d) for d in read_tree(src).values())
        self.assertIn("%d       %d objects" % (total, len(files)),
                      self.s3cmd(v, "du", "s3://%s/" % b))
        info = self.s3cmd(v, "info", "s3://%s/t/a.txt" % b)
        self.assertIn("File size: 8", info)
        self.assertIn("MD5 sum:   %s" % hashlib.md5(b"changed\n").hexdigest(), info)
        # cp copies the source's ACL with PutObjectAcl, which a bucket with ACLs off
        # (BucketOwnerEnforced, the default) refuses, as S3 does (s3tools/s3cmd#1304);
        # --acl-private is the known way round
        out = self.run_tool(["s3cmd", "-c", self.cfg[v], "cp", "s3://%s/t/a.txt" % b,
                             "s3://%s/copy.txt" % b], client_env(self.dir), check=False)
        self.assertNotEqual(out.returncode, 0)
        self.assertIn("AccessControlListNotSupported", out.stderr)
        self.s3cmd(v, "cp", "--acl-private", "s3://%s/t/a.txt" % b, "s3://%s/copy.txt" % b)
        self.s3cmd(v, "mv", "--acl-private", "s3://%s/copy.txt" % b, "s3://%s/moved.txt" % b)
        self.assertEqual(self.s3.get_object(Bucket=b, Key="moved.txt")["Body"].read(),
                         b"changed\n")
        self.assertNotIn("copy.txt", self.keys(b))
        # setacl: public and private again (ACLs need an ownership that allows them)
        self.s3.put_bucket_ownership_controls(
            Bucket=b, OwnershipControls={"Rules": [{"ObjectOwnership": "ObjectWriter"}]})
        self.s3.delete_public_access_block(Bucket=b)
        self.s3cmd(v, "setacl", "--acl-public", "s3://%s/moved.txt" % b)
        self.assertIn("*anon*: READ", self.s3cmd(v, "info", "s3://%s/moved.txt" % b))
        got = subprocess.run(["curl", "-sS", "-f", "%s/%s/moved.txt" % (self.pd.endpoint, b)],
                             capture_output=True, timeout=30)
        self.assertEqual(got.stdout, b"changed\n")
        self.s3cmd(v, "setacl", "--acl-private", "s3://%s/moved.txt" % b)
        got = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}",
                              "%s/%s/moved.txt" % (self.pd.endpoint, b)],
                             capture_output=True, text=True, timeout=30)
        self.assertEqual(got.stdout, "403")
        # a signed URL (always SigV2 in s3cmd) fetched with curl, the multipart object too
        url = self.s3cmd(v, "signurl", "s3://%s/t/big/blob.bin" % b, "+600").strip()
        got = subprocess.run(["curl", "-sS", "-f", url], capture_output=True, timeout=60)
        self.assertEqual(got.returncode, 0, got.stderr)
        self.assertEqual(got.stdout, files["big/blob.bin"])
        # everything goes, then the bucket
        self.s3cmd(v, "del", "--recursive", "--force", "s3://%s/" % b)
        self.assertEqual(self.keys(b), [])
        self.s3cmd(v, "rb", "s3://" + b)


@unittest.skipUnless(shutil.which("restic"), "restic needed (Debian package restic)")
class Restic(ClientBase):
    def restic(self, *args, check=True):
        env = client_env(self.dir)
        env.update({
            "RESTIC_REPOSITORY": "s3:%s/restic-repo/backups" % self.pd.endpoint,
            "RESTIC_PASSWORD": "correct horse battery staple",
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_DEFAULT_REGION": "us-east-1",
            "RESTIC_CACHE_DIR": os.path.join(self.dir, "cache"),
        })
        return self.run_tool(["restic"] + list(args), env, check=check, timeout=600)

    def test_backup_check_restore(self):
        src = os.path.join(self.dir, "data")
        make_tree(src, big=9 * MB)
        self.restic("init")  # restic makes the bucket itself
        self.assertIn("backups/config", self.keys("restic-repo"))
        out = self.restic("backup", "--json", src).stdout
        summary = [json.loads(x) for x in out.splitlines() if '"summary"' in x][-1]
        self.assertEqual(summary["files_new"], 6)
        self.restic("check", "--read-data")
        # a second backup after a change stores only the change
        with open(os.path.join(src, "a.txt"), "wb") as f:
            f.write(b"second version\n")
        out = self.restic("backup", "--json", src).stdout
        summary = [json.loads(x) for x in out.splitlines() if '"summary"' in x][-1]
        self.assertEqual((summary["files_new"], summary["files_changed"]), (0, 1))
        snaps = json.loads(self.restic("snapshots", "--json").stdout)
        self.assertEqual(len(snaps), 2)
        dst = os.path.join(self.dir, "restored")
        self.restic("restore", "latest", "--target", dst)
        self.assertEqual(read_tree(os.path.join(dst, os.path.relpath(src, "/"))),
                         read_tree(src))
        # the first snapshot still has the first a.txt
        first = os.path.join(self.dir, "first")
        self.restic("restore", snaps[0]["short_id"], "--target", first)
        with open(os.path.join(first, os.path.relpath(src, "/"), "a.txt"), "rb") as f:
            self.assertEqual(f.read(), b"alpha\n")
        self.restic("forget", "--keep-last", "1", "--prune")
        self.assertEqual(len(json.loads(self.restic("snapshots", "--json").stdout)), 1)
        self.restic("check")


if __name__ == "__main__":
    unittest.main()
