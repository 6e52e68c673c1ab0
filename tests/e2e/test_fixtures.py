"""Fixtures (docs/fixtures.md): --fixtures FILE at start, POST /_podiam/reset back to them,
GET /_podiam/state exporting the same format (export -> load -> export is stable), clear
errors for broken files, and --seed making ids and keys reproducible.
"""
import copy
import json
import os
import shutil
import subprocess
import tempfile
import unittest

import botocore.exceptions

from podiam_harness import Podiam, podiam_binary

ACCOUNT = "000000000000"
OTHER = "111122223333"
USER_KEY = {"id": "AKIAIOSFODNN7EXAMPLE", "secret": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}
SLEEPY_KEY = {"id": "AKIAI44QH8DHBEXAMPLE", "secret": "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY",
              "status": "Inactive"}
OTHER_ROOT = {"id": "AKIAOTHERROOTEXAMPLE", "secret": "other-root-secret"}
ISSUER = "oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"
S3_READ = {"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"],
    "Resource": ["arn:aws:s3:::data", "arn:aws:s3:::data/*"]}]}

FIXTURES = {
    "iam": {"accounts": [
        {
            "id": ACCOUNT,
            "policies": [{
                "name": "s3-read", "path": "/ci/", "description": "read data",
                "tags": {"team": "ci"},
                "versions": [
                    {"id": "v1", "document": {"Version": "2012-10-17", "Statement": [{
                        "Effect": "Allow", "Action": "s3:GetObject",
                        "Resource": "arn:aws:s3:::data/*"}]}, "created": "2024-01-01T00:00:00Z"},
                    {"id": "v3", "document": S3_READ, "default": True,
                     "created": "2024-02-01T00:00:00Z"},
                ],
            }],
            "groups": [{"name": "readers", "attached_policies": [
                "arn:aws:iam::%s:policy/ci/s3-read" % ACCOUNT]}],
            "users": [
                {"name": "ci", "path": "/bots/", "id": "AIDAFIXEDUSERID000001",
                 "created": "2024-03-01T12:00:00Z", "tags": {"owner": "platform"},
                 "groups": ["readers"], "access_keys": [USER_KEY],
                 "inline_policies": {"extra": {"Version": "2012-10-17", "Statement": [{
                     "Effect": "Allow", "Action": "sts:GetCallerIdentity", "Resource": "*"}]}}},
                {"name": "sleepy", "access_keys": [SLEEPY_KEY]},
            ],
            "oidc_providers": [{"url": "https://" + ISSUER, "client_ids": ["sts.amazonaws.com"],
                                "thumbprints": ["9e99a48a9960b14926bb7f3b02e22da2b0ab7280"],
                                "tags": {"cluster": "demo"}}],
            "roles": [{
                "name": "app", "id": "AROAFIXEDROLEID000001", "description": "the app",
                "max_session_duration": 7200,
                "trust_policy": {"Version": "2012-10-17", "Statement": [{
                    "Effect": "Allow",
                    "Principal": {"Federated": "arn:aws:iam::%s:oidc-provider/%s"
                                  % (ACCOUNT, ISSUER)},
                    "Action": "sts:AssumeRoleWithWebIdentity",
                    "Condition": {"StringEquals": {
                        ISSUER + ":sub": "system:serviceaccount:default:app",
                        ISSUER + ":aud": "sts.amazonaws.com"}}}]},
                "attached_policies": ["arn:aws:iam::%s:policy/ci/s3-read" % ACCOUNT],
                "permissions_boundary": "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess",
            }, {
                "name": "ci-admin", "path": "/ops/",
                "trust_policy": {"Version": "2012-10-17", "Statement": [{
                    "Effect": "Allow",
                    "Principal": {"AWS": "arn:aws:iam::%s:user/bots/ci" % ACCOUNT},
                    "Action": "sts:AssumeRole"}]},
                "inline_policies": {"all": {"Version": "2012-10-17", "Statement": [{
                    "Effect": "Allow", "Action": "*", "Resource": "*"}]}},
            }],
        },
        {"id": OTHER, "root_access_keys": [OTHER_ROOT],
         "users": [{"name": "elsewhere"}]},
    ]},
}


def write_json(dirname, name, obj):
    path = os.path.join(dirname, name)
    with open(path, "w") as f:
        if isinstance(obj, str):
            f.write(obj)
        else:
            json.dump(obj, f, indent=1)
    return path


def start_fails(*args):
    """Run `podiam serve` expecting it to refuse to start: (exit code, stderr)."""
    p = subprocess.run([podiam_binary(), "serve", "--listen", "127.0.0.1:0", "--listen-tls",
                        "off", "--listen-proxy", "off", "--state", ":memory:"] + list(args),
                       capture_output=True, text=True, timeout=30)
    return p.returncode, p.stderr


class FixturesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="podiam-fixtures-")
        cls.file = write_json(cls.dir, "ci.json", FIXTURES)
        cls.p = Podiam.start("--fixtures", cls.file)
        cls.iam = cls.p.boto3("iam")

    @classmethod
    def tearDownClass(cls):
        cls.p.stop()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def setUp(self):
        self.p.reset()

    def test_fixed_keys_work_at_once(self):
        sts = self.p.boto3("sts", key=USER_KEY["id"], secret=USER_KEY["secret"])
        me = sts.get_caller_identity()
        self.assertEqual((me["UserId"], me["Account"], me["Arn"]),
                         ("AIDAFIXEDUSERID000001", ACCOUNT,
                          "arn:aws:iam::%s:user/bots/ci" % ACCOUNT))
        cli = self.p.aws("sts", "get-caller-identity", key=USER_KEY["id"],
                         secret=USER_KEY["secret"])[1]
        self.assertEqual(cli["Arn"], me["Arn"])
        other = self.p.boto3("sts", key=OTHER_ROOT["id"], secret=OTHER_ROOT["secret"])
        self.assertEqual(other.get_caller_identity()["Arn"], "arn:aws:iam::%s:root" % OTHER)
        other_iam = self.p.boto3("iam", key=OTHER_ROOT["id"], secret=OTHER_ROOT["secret"])
        self.assertEqual([u["UserName"] for u in other_iam.list_users()["Users"]], ["elsewhere"])
        sleepy = self.p.boto3("sts", key=SLEEPY_KEY["id"], secret=SLEEPY_KEY["secret"])
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            sleepy.get_caller_identity()
        self.assertEqual(cm.exception.response["Error"]["Code"], "InvalidClientTokenId")

    def test_fixture_state_through_the_api(self):
        iam = self.iam
        u = iam.get_user(UserName="ci")["User"]
        self.assertEqual(u["UserId"], "AIDAFIXEDUSERID000001")
        self.assertEqual(u["CreateDate"].isoformat(), "2024-03-01T12:00:00+00:00")
        self.assertEqual(u["Tags"], [{"Key": "owner", "Value": "platform"}])
        groups = iam.list_groups_for_user(UserName="ci")["Groups"]
        self.assertEqual([g["GroupName"] for g in groups],
                         ["readers"])
        self.assertEqual(iam.list_user_policies(UserName="ci")["PolicyNames"], ["extra"])
        keys = iam.list_access_keys(UserName="sleepy")["AccessKeyMetadata"]
        self.assertEqual([(k["AccessKeyId"], k["Status"]) for k in keys],
                         [(SLEEPY_KEY["id"], "Inactive")])

        arn = "arn:aws:iam::%s:policy/ci/s3-read" % ACCOUNT
        pol = iam.get_policy(PolicyArn=arn)["Policy"]
        self.assertEqual((pol["DefaultVersionId"], pol["AttachmentCount"], pol["Description"]),
                         ("v3", 2, "read data"))
        versions = iam.list_policy_versions(PolicyArn=arn)["Versions"]
        self.assertEqual(sorted(v["VersionId"] for v in versions), ["v1", "v3"])
        self.assertEqual(iam.get_policy_version(PolicyArn=arn, VersionId="v3")
                         ["PolicyVersion"]["Document"], S3_READ)
        # The next version continues AWS's numbering after the highest.
        nv = iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(S3_READ))
        self.assertEqual(nv["PolicyVersion"]["VersionId"], "v4")

        r = iam.get_role(RoleName="app")["Role"]
        self.assertEqual((r["RoleId"], r["Description"], r["MaxSessionDuration"]),
                         ("AROAFIXEDROLEID000001", "the app", 7200))
        self.assertEqual(r["AssumeRolePolicyDocument"],
                         FIXTURES["iam"]["accounts"][0]["roles"][0]["trust_policy"])
        self.assertEqual(r["PermissionsBoundary"]["PermissionsBoundaryArn"],
                         "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")
        self.assertEqual(iam.list_attached_role_policies(RoleName="app")["AttachedPolicies"],
                         [{"PolicyName": "s3-read", "PolicyArn": arn}])
        self.assertEqual(iam.get_role(RoleName="ci-admin")["Role"]["Arn"],
                         "arn:aws:iam::%s:role/ops/ci-admin" % ACCOUNT)

        [prov] = iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]
        self.assertEqual(prov["Arn"], "arn:aws:iam::%s:oidc-provider/%s" % (ACCOUNT, ISSUER))
        got = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=prov["Arn"])
        self.assertEqual(got["ClientIDList"], ["sts.amazonaws.com"])
        self.assertEqual(got["Tags"], [{"Key": "cluster", "Value": "demo"}])

    def test_reset_restores_the_fixtures(self):
        iam = self.iam
        iam.create_user(UserName="made-by-api")
        iam.create_role(RoleName="temp", AssumeRolePolicyDocument=json.dumps(
            FIXTURES["iam"]["accounts"][0]["roles"][1]["trust_policy"]))
        iam.update_role(RoleName="app", Description="changed")
        iam.delete_access_key(UserName="ci", AccessKeyId=USER_KEY["id"])
        iam.remove_user_from_group(GroupName="readers", UserName="ci")
        sts = self.p.boto3("sts", key=USER_KEY["id"], secret=USER_KEY["secret"])
        with self.assertRaises(botocore.exceptions.ClientError):
            sts.get_caller_identity()
        root_key = iam.create_access_key()["AccessKey"]

        out = self.p.reset()
        self.assertEqual(out, {"status": "reset", "fixtures": 1})
        for call, kw in ((iam.get_user, {"UserName": "made-by-api"}),
                         (iam.get_role, {"RoleName": "temp"})):
            with self.assertRaises(botocore.exceptions.ClientError) as cm:
                call(**kw)
            self.assertEqual(cm.exception.response["Error"]["Code"], "NoSuchEntity")
        self.assertEqual(iam.get_role(RoleName="app")["Role"]["Description"], "the app")
        self.assertEqual(sts.get_caller_identity()["UserId"], "AIDAFIXEDUSERID000001")
        self.assertEqual(len(self.p.boto3("iam").get_group(GroupName="readers")["Users"]), 1)
        gone = self.p.boto3("sts", key=root_key["AccessKeyId"],
                            secret=root_key["SecretAccessKey"])
        with self.assertRaises(botocore.exceptions.ClientError):
            gone.get_caller_identity()
        # The default root key survives every reset.
        self.assertEqual(self.p.boto3("sts").get_caller_identity()["Account"], ACCOUNT)

    def test_export_round_trip(self):
        first = self.p.admin("GET", "state")
        self.assertIn("iam", first)
        accounts = {a["id"]: a for a in first["iam"]["accounts"]}
        self.assertEqual(set(accounts), {ACCOUNT, OTHER})
        ci = [u for u in accounts[ACCOUNT]["users"] if u["name"] == "ci"][0]
        self.assertEqual(ci["id"], "AIDAFIXEDUSERID000001")
        self.assertEqual(ci["access_keys"][0]["id"], USER_KEY["id"])
        self.assertEqual(ci["access_keys"][0]["secret"], USER_KEY["secret"])
        self.assertNotIn("test", json.dumps(accounts[ACCOUNT].get("root_access_keys", [])))

        # Change the state through the API, export, and replay that export elsewhere.
        iam = self.iam
        iam.create_user(UserName="later", Path="/api/", Tags=[{"Key": "k", "Value": "v"}])
        iam.create_access_key(UserName="later")
        iam.create_group(GroupName="g2")
        iam.add_user_to_group(GroupName="g2", UserName="later")
        iam.put_group_policy(GroupName="g2", PolicyName="gp", PolicyDocument=json.dumps(S3_READ))
        iam.create_policy(PolicyName="p2", PolicyDocument=json.dumps(S3_READ))
        iam.attach_user_policy(UserName="later",
                               PolicyArn="arn:aws:iam::%s:policy/p2" % ACCOUNT)
        exported = self.p.admin("GET", "state")
        path = write_json(self.dir, "export.json", exported)
        second = Podiam.start("--fixtures", path)
        try:
            again = second.admin("GET", "state")
            self.assertEqual(again, exported)
            # And the replayed state serves the same answers.
            iam2 = second.boto3("iam")
            self.assertEqual(iam2.get_user(UserName="later")["User"],
                             iam.get_user(UserName="later")["User"])
            self.assertEqual(iam2.get_role(RoleName="app")["Role"]["RoleId"],
                             "AROAFIXEDROLEID000001")
            k = [u for a in exported["iam"]["accounts"] for u in a.get("users", [])
                 if u["name"] == "later"][0]["access_keys"][0]
            sts2 = second.boto3("sts", key=k["id"], secret=k["secret"])
            self.assertEqual(sts2.get_caller_identity()["Arn"],
                             "arn:aws:iam::%s:user/api/later" % ACCOUNT)
        finally:
            second.stop()

    def test_reset_keeps_fixed_ids_and_dates(self):
        """What the file fixes comes back identical after a reset (generated ids do not,
        unless they are written into the file, which is what the export does)."""
        def fixed(doc):
            acct = [a for a in doc["iam"]["accounts"] if a["id"] == ACCOUNT][0]
            ci = [u for u in acct["users"] if u["name"] == "ci"][0]
            app = [r for r in acct["roles"] if r["name"] == "app"][0]
            return ci["id"], ci["created"], ci["access_keys"], app["id"]
        a = fixed(self.p.admin("GET", "state"))
        self.p.reset()
        self.assertEqual(fixed(self.p.admin("GET", "state")), a)
        self.assertEqual(a[:2], ("AIDAFIXEDUSERID000001", "2024-03-01T12:00:00Z"))


class BrokenFixturesTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="podiam-fixtures-")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def refused(self, obj, *expected):
        path = write_json(self.dir, "broken.json", obj)
        rc, err = start_fails("--fixtures", path)
        self.assertNotEqual(rc, 0, err)
        self.assertIn("broken.json", err)
        for e in expected:
            self.assertIn(e, err)
        return err

    def test_unknown_field_is_named(self):
        bad = copy.deepcopy(FIXTURES)
        bad["iam"]["accounts"][0]["users"][1]["nmae"] = "typo"
        self.refused(bad, "iam.accounts[0].users[1]", 'unknown field "nmae"')

    def test_missing_required_field(self):
        bad = copy.deepcopy(FIXTURES)
        del bad["iam"]["accounts"][0]["roles"][0]["trust_policy"]
        self.refused(bad, "iam.accounts[0].roles[0]", '"trust_policy"')

    def test_invalid_json_names_line(self):
        self.refused('{"iam": {"accounts": [}}', "line 1")

    def test_api_rules_apply(self):
        bad = copy.deepcopy(FIXTURES)
        bad["iam"]["accounts"][0]["roles"][1]["trust_policy"]["Statement"][0]["Principal"] = {
            "AWS": "arn:aws:iam::%s:user/ghost" % ACCOUNT}
        self.refused(bad, "iam.accounts[0].roles[1]", "MalformedPolicyDocument",
                     "Invalid principal")
        bad = copy.deepcopy(FIXTURES)
        bad["iam"]["accounts"][0]["users"][0]["name"] = "has space"
        self.refused(bad, "iam.accounts[0].users[0]", "ValidationError")

    def test_unknown_section(self):
        self.refused({"iam": {"accounts": []}, "ec2": {}}, 'unknown section "ec2"')

    def test_missing_file(self):
        rc, err = start_fails("--fixtures", os.path.join(self.dir, "nope.json"))
        self.assertNotEqual(rc, 0)
        self.assertIn("nope.json", err)
        self.assertIn("No such file", err)
        self.assertNotIn("line -1", err)  # no made-up position for a file that is not there


class SeedTest(unittest.TestCase):
    def run_once(self, seed):
        p = Podiam.start("--seed", str(seed))
        try:
            iam = p.boto3("iam")
            ids = [iam.create_user(UserName="u")["User"]["UserId"],
                   iam.create_group(GroupName="g")["Group"]["GroupId"],
                   iam.create_role(RoleName="r", AssumeRolePolicyDocument=json.dumps(
                       FIXTURES["iam"]["accounts"][0]["roles"][1]["trust_policy"]
                       ).replace("user/bots/ci", "root"))["Role"]["RoleId"],
                   iam.create_policy(PolicyName="p", PolicyDocument=json.dumps(S3_READ))
                   ["Policy"]["PolicyId"]]
            k = iam.create_access_key(UserName="u")["AccessKey"]
            ids += [k["AccessKeyId"], k["SecretAccessKey"]]
            st = p.boto3("sts").get_session_token()["Credentials"]
            ids.append(st["AccessKeyId"])
            return ids
        finally:
            p.stop()

    def test_reset_under_a_seed_starts_the_ids_again(self):
        path = os.path.join(tempfile.mkdtemp(prefix="podiam-seed-"), "f.json")
        with open(path, "w") as f:
            json.dump({"iam": {"accounts": [{"id": "000000000000", "users": [{"name": "fx"}]}]}},
                      f)
        p = Podiam.start("--seed", "11", "--fixtures", path)
        try:
            iam = p.boto3("iam")
            first = (iam.get_user(UserName="fx")["User"]["UserId"],
                     iam.create_user(UserName="u")["User"]["UserId"])
            p.admin("POST", "reset")
            again = (iam.get_user(UserName="fx")["User"]["UserId"],
                     iam.create_user(UserName="u")["User"]["UserId"])
            self.assertEqual(first, again)
        finally:
            p.stop()

    def test_same_seed_same_ids(self):
        a, b, c = self.run_once(7), self.run_once(7), self.run_once(8)
        self.assertEqual(a, b)
        self.assertNotEqual(a[:4], c[:4])
        self.assertRegex(a[0], r"^AIDA[A-Z2-7]{17}$")
        self.assertRegex(a[4], r"^AKIA[A-Z2-7]{16}$")


if __name__ == "__main__":
    unittest.main()
