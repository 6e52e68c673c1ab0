"""S3 with the aws CLI: `aws s3` (mb, cp, sync, ls, rm, rb) and `aws s3api`, including a
100 MiB file uploaded in parts and downloaded byte-identical. Works with CLI v1 and v2
(outputs are compared loosely where they differ)."""
import filecmp
import hashlib
import os
import shutil
import tempfile
import unittest

from podiam_harness import Podiam


class S3CliTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.p = Podiam.shared()
        cls.tmp = tempfile.mkdtemp(prefix="podiam-s3cli-")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def path(self, *parts):
        return os.path.join(self.tmp, *parts)

    def test_mb_cp_ls_rm_rb(self):
        self.p.aws("s3", "mb", "s3://cli-basic")
        src = self.path("hello.txt")
        with open(src, "w") as f:
            f.write("hello from the cli\n")
        self.p.aws("s3", "cp", src, "s3://cli-basic/dir/hello.txt")
        _, out, _ = self.p.aws("s3", "ls", "s3://cli-basic/dir/")
        self.assertIn("hello.txt", out)
        _, out, _ = self.p.aws("s3", "ls")
        self.assertIn("cli-basic", out)
        dst = self.path("back.txt")
        self.p.aws("s3", "cp", "s3://cli-basic/dir/hello.txt", dst)
        self.assertTrue(filecmp.cmp(src, dst, shallow=False))
        rc, _, err = self.p.aws("s3", "rb", "s3://cli-basic", check=False)
        self.assertNotEqual(rc, 0)
        self.assertIn("BucketNotEmpty", err)
        self.p.aws("s3", "rm", "s3://cli-basic/dir/hello.txt")
        self.p.aws("s3", "rb", "s3://cli-basic")
        _, out, _ = self.p.aws("s3", "ls")
        self.assertNotIn("cli-basic", out if isinstance(out, str) else str(out))

    def test_recursive_mv_presign_rb_force(self):
        self.p.aws("s3", "mb", "s3://cli-rec")
        src = self.path("rec")
        os.makedirs(os.path.join(src, "d"), exist_ok=True)
        for name in ["d/a", "b"]:
            with open(os.path.join(src, name), "w") as f:
                f.write(name)
        self.p.aws("s3", "cp", "--recursive", src, "s3://cli-rec/p/")
        self.p.aws("s3", "mv", "s3://cli-rec/p/b", "s3://cli-rec/q/b")
        _, out, _ = self.p.aws("s3", "ls", "--recursive", "s3://cli-rec")
        self.assertIn("p/d/a", out)
        self.assertIn("q/b", out)
        self.assertNotIn("p/b", out)
        # presigning with SigV4 (CLI v1 needs to be told; v2 does it by default)
        _, url, _ = self.p.aws("s3", "presign", "s3://cli-rec/q/b", "--expires-in", "60",
                               extra_env={"AWS_CONFIG_FILE": self.s3v4_config()})
        url = url.strip() if isinstance(url, str) else url
        self.assertIn("X-Amz-Signature=", url)
        import urllib.request
        with urllib.request.urlopen(url) as r:
            self.assertEqual(r.read(), b"b")
        self.p.aws("s3", "rb", "--force", "s3://cli-rec")
        _, out, _ = self.p.aws("s3", "ls")
        self.assertNotIn("cli-rec", out if isinstance(out, str) else str(out))

    def s3v4_config(self):
        path = self.path("s3v4.config")
        with open(path, "w") as f:
            f.write("[default]\ns3 =\n    signature_version = s3v4\n")
        return path

    def test_sync_both_ways(self):
        self.p.aws("s3", "mb", "s3://cli-sync")
        src = self.path("tree")
        for d in ["a", "a/b", "c"]:
            os.makedirs(os.path.join(src, d), exist_ok=True)
        files = {"a/1.txt": b"one", "a/b/2.bin": os.urandom(70000), "c/3 with space.txt": b"3",
                 "top.txt": b"top"}
        for k, v in files.items():
            with open(os.path.join(src, k), "wb") as f:
                f.write(v)
        self.p.aws("s3", "sync", src, "s3://cli-sync/tree")
        _, out, _ = self.p.aws("s3", "ls", "--recursive", "s3://cli-sync/tree/")
        for k in files:
            self.assertIn(k, out)
        back = self.path("tree-back")
        self.p.aws("s3", "sync", "s3://cli-sync/tree", back)
        for k, v in files.items():
            with open(os.path.join(back, k), "rb") as f:
                self.assertEqual(f.read(), v, k)
        # a second sync has nothing to do
        _, out, _ = self.p.aws("s3", "sync", src, "s3://cli-sync/tree")
        self.assertNotIn("upload:", out if isinstance(out, str) else "")
        self.p.aws("s3", "rm", "--recursive", "s3://cli-sync/tree")
        self.p.aws("s3", "rb", "s3://cli-sync")

    def test_over_https(self):
        """Over https the CLI streams bodies aws-chunked with trailing checksums."""
        self.p.aws("s3", "mb", "s3://cli-tls", tls=True)
        data = os.urandom(20 * 1024 * 1024 + 123)
        src = self.path("tls.bin")
        with open(src, "wb") as f:
            f.write(data)
        self.p.aws("s3", "cp", src, "s3://cli-tls/tls.bin", tls=True)
        self.p.aws("s3", "cp", __file__, "s3://cli-tls/small.py", tls=True)
        back = self.path("tls.back")
        self.p.aws("s3", "cp", "s3://cli-tls/tls.bin", back, tls=True)
        with open(back, "rb") as f:
            self.assertEqual(hashlib.md5(f.read()).hexdigest(), hashlib.md5(data).hexdigest())
        self.p.aws("s3", "rb", "--force", "s3://cli-tls", tls=True)

    def test_s3api(self):
        self.p.aws("s3api", "create-bucket", "--bucket", "cli-api")
        _, out, _ = self.p.aws("s3api", "put-object", "--bucket", "cli-api", "--key", "k",
                               "--body", __file__, "--metadata", "a=b")
        with open(__file__, "rb") as f:
            data = f.read()
        self.assertEqual(out["ETag"], '"%s"' % hashlib.md5(data).hexdigest())
        _, out, _ = self.p.aws("s3api", "head-object", "--bucket", "cli-api", "--key", "k")
        self.assertEqual(out["ContentLength"], len(data))
        self.assertEqual(out["Metadata"], {"a": "b"})
        _, out, _ = self.p.aws("s3api", "list-objects-v2", "--bucket", "cli-api")
        self.assertEqual([o["Key"] for o in out["Contents"]], ["k"])
        rc, _, err = self.p.aws("s3api", "get-object", "--bucket", "cli-api", "--key", "nope",
                                self.path("nope"), check=False)
        self.assertNotEqual(rc, 0)
        self.assertIn("NoSuchKey", err)
        self.p.aws("s3api", "delete-object", "--bucket", "cli-api", "--key", "k")
        self.p.aws("s3api", "delete-bucket", "--bucket", "cli-api")

    def test_100mib_multipart_roundtrip(self):
        self.p.aws("s3", "mb", "s3://cli-big")
        big = self.path("big.bin")
        h = hashlib.md5()
        with open(big, "wb") as f:
            block = os.urandom(1024 * 1024)
            for i in range(100):
                chunk = bytes([i]) + block[1:]
                h.update(chunk)
                f.write(chunk)
        self.p.aws("s3", "cp", big, "s3://cli-big/big.bin")
        _, out, _ = self.p.aws("s3api", "head-object", "--bucket", "cli-big", "--key", "big.bin")
        self.assertEqual(out["ContentLength"], 100 * 1024 * 1024)
        self.assertRegex(out["ETag"], r'^"[0-9a-f]{32}-\d+"$')  # uploaded in parts
        back = self.path("big.back")
        self.p.aws("s3", "cp", "s3://cli-big/big.bin", back)
        h2 = hashlib.md5()
        with open(back, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h2.update(chunk)
        self.assertEqual(h.hexdigest(), h2.hexdigest())
        os.unlink(big)
        os.unlink(back)
        self.p.aws("s3", "rm", "s3://cli-big/big.bin")
        self.p.aws("s3", "rb", "s3://cli-big")


if __name__ == "__main__":
    unittest.main()
