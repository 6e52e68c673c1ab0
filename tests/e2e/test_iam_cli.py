"""IAM end to end with the aws CLI (v1 or v2): every entity created, read, listed, updated
and deleted, the errors users see (code and HTTP status), ids, ARNs, the CLI's
auto-pagination (--max-items, --page-size, --starting-token) and file:// documents.

The CLI runs as a subprocess (Podiam.aws passes --endpoint-url: Debian's CLI 2.9 has no
AWS_ENDPOINT_URL). Error statuses are read from the CLI's --debug log (urllib3's
'"POST / HTTP/1.1" 404' line), or, where a CLI version does not log it, from podiam's access
log. v1 exits 255 on service errors, v2 254: both are accepted. Each test starts from a reset.
"""
import json
import os
import re
import unittest
from concurrent.futures import ThreadPoolExecutor

from podiam_harness import Podiam

ACCOUNT = "000000000000"
TRUST = {"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
    "Action": "sts:AssumeRole"}]}


def doc(n):
    return {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b%d/*" % n}]}


STATUS = re.compile(r'"(?:POST|GET) /\S* HTTP/1\.1" (\d{3})')


class CliCase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.p = Podiam.shared()

    def setUp(self):
        self.p.reset()

    def aws(self, *args, **kw):
        return self.p.aws(*args, **kw)[1]

    def parallel(self, calls):
        """Run independent CLI calls at once (each is a process; this keeps the file fast)."""
        with ThreadPoolExecutor(max_workers=4) as ex:
            return list(ex.map(lambda a: self.aws(*a), calls))

    def fails(self, code, status, *args, message=None):
        rc, _, err = self.p.aws("--debug", *args, check=False)
        self.assertIn(rc, (254, 255), err[-2000:])  # v2 exits 254 on service errors, v1 255
        m = re.search(r"An error occurred \((\w+)\) when calling the (\w+) operation: (.*)", err)
        self.assertTrue(m, err[-2000:])
        self.assertEqual(m.group(1), code, m.group(0))
        statuses = [int(x) for x in STATUS.findall(err)]
        if not statuses and self.p.proc:
            # No urllib3 line in this CLI's --debug output: podiam's access log has it.
            statuses = [int(x) for x in re.findall(
                r"\.%s (\d{3}) %s " % (m.group(2), code), self.p.logs())]
        self.assertTrue(statuses or not self.p.proc, "no HTTP status for %s" % m.group(0))
        if statuses:  # (an external endpoint with a quiet CLI shows none)
            self.assertEqual(statuses[-1], status)
        if message is not None:
            self.assertEqual(m.group(3).strip(), message)
        return m.group(3)

    def write(self, name, obj):
        path = os.path.join(self.p.home, name)
        with open(path, "w") as f:
            json.dump(obj, f)
        return "file://" + path


class UsersGroupsCliTest(CliCase):
    def test_users(self):
        u = self.aws("iam", "create-user", "--user-name", "alice", "--path", "/eng/",
                     "--tags", "Key=team,Value=eng", "Key=cost,Value=42")["User"]
        self.assertRegex(u["UserId"], r"^AIDA[A-Z2-7]{17}$")
        self.assertEqual(u["Arn"], "arn:aws:iam::%s:user/eng/alice" % ACCOUNT)
        self.assertRegex(u["CreateDate"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|\+00:00)$")
        got = self.aws("iam", "get-user", "--user-name", "alice")["User"]
        self.assertEqual(got["Tags"], [{"Key": "team", "Value": "eng"},
                                       {"Key": "cost", "Value": "42"}])
        self.aws("iam", "create-user", "--user-name", "bob")
        lst = self.aws("iam", "list-users", "--path-prefix", "/eng/")["Users"]
        self.assertEqual([x["UserName"] for x in lst], ["alice"])

        self.aws("iam", "update-user", "--user-name", "alice", "--new-user-name", "carol",
                 "--new-path", "/ops/")
        got = self.aws("iam", "get-user", "--user-name", "carol")["User"]
        self.assertEqual((got["Arn"], got["UserId"]),
                         ("arn:aws:iam::%s:user/ops/carol" % ACCOUNT, u["UserId"]))
        self.fails("NoSuchEntity", 404, "iam", "get-user", "--user-name", "alice",
                   message="The user with name alice cannot be found.")

        self.aws("iam", "untag-user", "--user-name", "carol", "--tag-keys", "cost")
        self.aws("iam", "tag-user", "--user-name", "carol", "--tags", "Key=new,Value=1")
        tags = self.aws("iam", "list-user-tags", "--user-name", "carol")["Tags"]
        self.assertEqual(tags, [{"Key": "team", "Value": "eng"}, {"Key": "new", "Value": "1"}])

        pb = "arn:aws:iam::aws:policy/IAMReadOnlyAccess"
        self.aws("iam", "put-user-permissions-boundary", "--user-name", "carol",
                 "--permissions-boundary", pb)
        got = self.aws("iam", "get-user", "--user-name", "carol")["User"]
        self.assertEqual(got["PermissionsBoundary"]["PermissionsBoundaryArn"], pb)
        self.aws("iam", "delete-user-permissions-boundary", "--user-name", "carol")
        self.assertNotIn("PermissionsBoundary",
                         self.aws("iam", "get-user", "--user-name", "carol")["User"])

        self.fails("EntityAlreadyExists", 409, "iam", "create-user", "--user-name", "BOB",
                   message="User with name BOB already exists.")
        self.fails("ValidationError", 400, "iam", "create-user", "--user-name", "no spaces")
        self.aws("iam", "delete-user", "--user-name", "carol")
        self.aws("iam", "delete-user", "--user-name", "bob")
        self.assertEqual(self.aws("iam", "list-users")["Users"], [])

    def test_groups(self):
        g = self.aws("iam", "create-group", "--group-name", "devs", "--path", "/eng/")["Group"]
        self.assertRegex(g["GroupId"], r"^AGPA[A-Z2-7]{17}$")
        self.assertEqual(g["Arn"], "arn:aws:iam::%s:group/eng/devs" % ACCOUNT)
        self.parallel([("iam", "create-user", "--user-name", "u1"),
                       ("iam", "create-user", "--user-name", "u2"),
                       ("iam", "create-group", "--group-name", "ops")])
        self.parallel([("iam", "add-user-to-group", "--group-name", "devs", "--user-name", "u1"),
                       ("iam", "add-user-to-group", "--group-name", "devs", "--user-name", "u2"),
                       ("iam", "add-user-to-group", "--group-name", "ops", "--user-name", "u1")])
        got = self.aws("iam", "get-group", "--group-name", "devs")
        self.assertEqual(got["Group"]["GroupName"], "devs")
        self.assertEqual(sorted(u["UserName"] for u in got["Users"]), ["u1", "u2"])
        groups = self.aws("iam", "list-groups-for-user", "--user-name", "u1")["Groups"]
        self.assertEqual(sorted(x["GroupName"] for x in groups), ["devs", "ops"])
        self.fails("DeleteConflict", 409, "iam", "delete-group", "--group-name", "devs")
        self.fails("DeleteConflict", 409, "iam", "delete-user", "--user-name", "u2",
                   message="Cannot delete entity, must remove user from all groups first.")
        self.aws("iam", "update-group", "--group-name", "devs", "--new-group-name", "builders")
        self.aws("iam", "remove-user-from-group", "--group-name", "builders", "--user-name", "u1")
        got = self.aws("iam", "get-group", "--group-name", "builders")
        self.assertEqual([u["UserName"] for u in got["Users"]], ["u2"])
        self.assertEqual(got["Group"]["Arn"], "arn:aws:iam::%s:group/eng/builders" % ACCOUNT)
        self.aws("iam", "remove-user-from-group", "--group-name", "builders", "--user-name", "u2")
        self.aws("iam", "delete-group", "--group-name", "builders")
        self.assertEqual([x["GroupName"] for x in self.aws("iam", "list-groups")["Groups"]],
                         ["ops"])
        self.fails("NoSuchEntity", 404, "iam", "get-group", "--group-name", "builders")


class RolesCliTest(CliCase):
    def test_roles(self):
        trust = self.write("trust.json", TRUST)
        pb = self.aws("iam", "create-policy", "--policy-name", "pb", "--policy-document",
                      json.dumps(doc(0)))["Policy"]["Arn"]
        r = self.aws("iam", "create-role", "--role-name", "app", "--path", "/svc/",
                     "--assume-role-policy-document", trust, "--description", "an app",
                     "--max-session-duration", "7200", "--permissions-boundary", pb,
                     "--tags", "Key=env,Value=ci")["Role"]
        self.assertRegex(r["RoleId"], r"^AROA[A-Z2-7]{17}$")
        self.assertEqual(r["Arn"], "arn:aws:iam::%s:role/svc/app" % ACCOUNT)
        self.assertEqual(r["AssumeRolePolicyDocument"], TRUST)
        got = self.aws("iam", "get-role", "--role-name", "app")["Role"]
        self.assertEqual((got["Description"], got["MaxSessionDuration"]), ("an app", 7200))
        self.assertEqual(got["PermissionsBoundary"]["PermissionsBoundaryArn"], pb)
        self.assertEqual(got["Tags"], [{"Key": "env", "Value": "ci"}])

        self.aws("iam", "update-role", "--role-name", "app", "--description", "changed",
                 "--max-session-duration", "3600")
        out = self.aws("iam", "update-role-description", "--role-name", "app",
                       "--description", "again")
        self.assertEqual(out["Role"]["Description"], "again")
        trust2 = {"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole"}]}
        self.aws("iam", "update-assume-role-policy", "--role-name", "app", "--policy-document",
                 json.dumps(trust2))
        got = self.aws("iam", "get-role", "--role-name", "app")["Role"]
        self.assertEqual(got["AssumeRolePolicyDocument"], trust2)
        self.assertEqual((got["Description"], got["MaxSessionDuration"]), ("again", 3600))

        self.aws("iam", "tag-role", "--role-name", "app", "--tags", "Key=owner,Value=me")
        self.aws("iam", "untag-role", "--role-name", "app", "--tag-keys", "env")
        self.assertEqual(self.aws("iam", "list-role-tags", "--role-name", "app")["Tags"],
                         [{"Key": "owner", "Value": "me"}])
        self.aws("iam", "delete-role-permissions-boundary", "--role-name", "app")
        self.assertNotIn("PermissionsBoundary",
                         self.aws("iam", "get-role", "--role-name", "app")["Role"])
        self.aws("iam", "put-role-permissions-boundary", "--role-name", "app",
                 "--permissions-boundary", pb)

        self.fails("EntityAlreadyExists", 409, "iam", "create-role", "--role-name", "APP",
                   "--assume-role-policy-document", trust)
        self.fails("MalformedPolicyDocument", 400, "iam", "create-role", "--role-name", "bad",
                   "--assume-role-policy-document", "{\"Version\": \"2012-10-17\",")
        self.fails("ValidationError", 400, "iam", "update-role", "--role-name", "app",
                   "--max-session-duration", "99999")
        self.assertEqual([x["RoleName"] for x in
                          self.aws("iam", "list-roles", "--path-prefix", "/svc/")["Roles"]],
                         ["app"])
        self.aws("iam", "delete-role", "--role-name", "app")
        self.fails("NoSuchEntity", 404, "iam", "delete-role", "--role-name", "app",
                   message="The role with name app cannot be found.")


class PoliciesCliTest(CliCase):
    def test_managed_policy_versions(self):
        p = self.aws("iam", "create-policy", "--policy-name", "mp", "--path", "/t/",
                     "--policy-document", self.write("p1.json", doc(1)),
                     "--description", "d", "--tags", "Key=a,Value=b")["Policy"]
        arn = p["Arn"]
        self.assertEqual(arn, "arn:aws:iam::%s:policy/t/mp" % ACCOUNT)
        self.assertRegex(p["PolicyId"], r"^ANPA[A-Z2-7]{17}$")
        for n in range(2, 6):
            v = self.aws("iam", "create-policy-version", "--policy-arn", arn,
                         "--policy-document", json.dumps(doc(n)),
                         *(["--set-as-default"] if n == 4 else []))["PolicyVersion"]
            self.assertEqual((v["VersionId"], v["IsDefaultVersion"]), ("v%d" % n, n == 4))
        self.fails("LimitExceeded", 409, "iam", "create-policy-version", "--policy-arn", arn,
                   "--policy-document", json.dumps(doc(6)))
        vs = self.aws("iam", "list-policy-versions", "--policy-arn", arn)["Versions"]
        self.assertEqual(sorted(v["VersionId"] for v in vs), ["v1", "v2", "v3", "v4", "v5"])
        self.assertEqual([v["VersionId"] for v in vs if v["IsDefaultVersion"]], ["v4"])
        got = self.aws("iam", "get-policy-version", "--policy-arn", arn, "--version-id", "v2")
        self.assertEqual(got["PolicyVersion"]["Document"], doc(2))
        self.aws("iam", "set-default-policy-version", "--policy-arn", arn, "--version-id", "v1")
        self.assertEqual(self.aws("iam", "get-policy", "--policy-arn", arn)["Policy"]
                         ["DefaultVersionId"], "v1")
        self.fails("DeleteConflict", 409, "iam", "delete-policy-version", "--policy-arn", arn,
                   "--version-id", "v1")
        self.fails("DeleteConflict", 409, "iam", "delete-policy", "--policy-arn", arn)
        self.parallel([("iam", "delete-policy-version", "--policy-arn", arn, "--version-id",
                        "v%d" % n) for n in range(2, 6)])
        self.assertEqual(len(self.aws("iam", "list-policy-versions", "--policy-arn", arn)
                             ["Versions"]), 1)
        self.fails("EntityAlreadyExists", 409, "iam", "create-policy", "--policy-name", "mp",
                   "--path", "/t/", "--policy-document", json.dumps(doc(1)))
        self.fails("MalformedPolicyDocument", 400, "iam", "create-policy", "--policy-name",
                   "bad", "--policy-document", "not json at all")
        self.assertEqual([x["Arn"] for x in
                          self.aws("iam", "list-policies", "--scope", "Local")["Policies"]], [arn])
        self.aws("iam", "delete-policy", "--policy-arn", arn)
        self.fails("NoSuchEntity", 404, "iam", "get-policy", "--policy-arn", arn,
                   message="Policy %s was not found." % arn)

    def test_inline_policies(self):
        self.parallel([("iam", "create-user", "--user-name", "u"),
                       ("iam", "create-group", "--group-name", "g"),
                       ("iam", "create-role", "--role-name", "r", "--assume-role-policy-document",
                        json.dumps(TRUST))])
        for kind, flag, name in (("user", "--user-name", "u"), ("group", "--group-name", "g"),
                                 ("role", "--role-name", "r")):
            self.aws("iam", "put-%s-policy" % kind, flag, name, "--policy-name", "inl",
                     "--policy-document", json.dumps(doc(1)))
            got = self.aws("iam", "get-%s-policy" % kind, flag, name, "--policy-name", "inl")
            self.assertEqual(got["PolicyDocument"], doc(1))
            self.assertEqual(
                self.aws("iam", "list-%s-policies" % kind, flag, name)["PolicyNames"], ["inl"])
            self.aws("iam", "delete-%s-policy" % kind, flag, name, "--policy-name", "inl")
            self.fails("NoSuchEntity", 404, "iam", "get-%s-policy" % kind, flag, name,
                       "--policy-name", "inl",
                       message="The %s policy with name inl cannot be found." % kind)
        self.fails("MalformedPolicyDocument", 400, "iam", "put-role-policy", "--role-name", "r",
                   "--policy-name", "x", "--policy-document", "{{")

    def test_attachments(self):
        arn = self.aws("iam", "create-policy", "--policy-name", "att", "--policy-document",
                       json.dumps(doc(1)))["Policy"]["Arn"]
        ids = self.parallel([("iam", "create-user", "--user-name", "u"),
                             ("iam", "create-group", "--group-name", "g"),
                             ("iam", "create-role", "--role-name", "r",
                              "--assume-role-policy-document", json.dumps(TRUST))])
        self.parallel([("iam", "attach-user-policy", "--user-name", "u", "--policy-arn", arn),
                       ("iam", "attach-group-policy", "--group-name", "g", "--policy-arn", arn),
                       ("iam", "attach-role-policy", "--role-name", "r", "--policy-arn", arn)])
        for kind, flag, name in (("user", "--user-name", "u"), ("group", "--group-name", "g"),
                                 ("role", "--role-name", "r")):
            self.assertEqual(self.aws("iam", "list-attached-%s-policies" % kind, flag, name)
                             ["AttachedPolicies"], [{"PolicyName": "att", "PolicyArn": arn}])
        ents = self.aws("iam", "list-entities-for-policy", "--policy-arn", arn)
        self.assertEqual(ents["PolicyUsers"],
                         [{"UserName": "u", "UserId": ids[0]["User"]["UserId"]}])
        self.assertEqual(ents["PolicyGroups"],
                         [{"GroupName": "g", "GroupId": ids[1]["Group"]["GroupId"]}])
        self.assertEqual(ents["PolicyRoles"],
                         [{"RoleName": "r", "RoleId": ids[2]["Role"]["RoleId"]}])
        self.fails("DeleteConflict", 409, "iam", "delete-policy", "--policy-arn", arn,
                   message="Cannot delete a policy attached to entities.")
        self.fails("NoSuchEntity", 404, "iam", "attach-user-policy", "--user-name", "u",
                   "--policy-arn", "arn:aws:iam::aws:policy/NoSuchPolicyAnywhere")
        self.parallel([("iam", "detach-user-policy", "--user-name", "u", "--policy-arn", arn),
                       ("iam", "detach-group-policy", "--group-name", "g", "--policy-arn", arn),
                       ("iam", "detach-role-policy", "--role-name", "r", "--policy-arn", arn)])
        ents = self.aws("iam", "list-entities-for-policy", "--policy-arn", arn)
        self.assertEqual(ents["PolicyUsers"] + ents["PolicyGroups"] + ents["PolicyRoles"], [])
        self.aws("iam", "delete-policy", "--policy-arn", arn)


class KeysOidcCliTest(CliCase):
    def test_access_keys(self):
        self.aws("iam", "create-user", "--user-name", "k")
        k = self.aws("iam", "create-access-key", "--user-name", "k")["AccessKey"]
        self.assertRegex(k["AccessKeyId"], r"^AKIA[A-Z2-7]{16}$")
        self.assertEqual(len(k["SecretAccessKey"]), 40)
        k2 = self.aws("iam", "create-access-key", "--user-name", "k")["AccessKey"]
        self.fails("LimitExceeded", 409, "iam", "create-access-key", "--user-name", "k",
                   message="Cannot exceed quota for AccessKeysPerUser: 2")
        me = self.p.aws("sts", "get-caller-identity", key=k["AccessKeyId"],
                        secret=k["SecretAccessKey"])[1]
        self.assertEqual(me["Arn"], "arn:aws:iam::%s:user/k" % ACCOUNT)
        meta = self.aws("iam", "list-access-keys", "--user-name", "k")["AccessKeyMetadata"]
        self.assertEqual(sorted(m["AccessKeyId"] for m in meta),
                         sorted([k["AccessKeyId"], k2["AccessKeyId"]]))
        self.assertEqual({m["Status"] for m in meta}, {"Active"})
        self.aws("iam", "update-access-key", "--user-name", "k", "--access-key-id",
                 k["AccessKeyId"], "--status", "Inactive")
        meta = self.aws("iam", "list-access-keys", "--user-name", "k")["AccessKeyMetadata"]
        self.assertEqual({m["AccessKeyId"]: m["Status"] for m in meta}[k["AccessKeyId"]],
                         "Inactive")
        last = self.aws("iam", "get-access-key-last-used", "--access-key-id", k2["AccessKeyId"])
        self.assertEqual(last["UserName"], "k")
        self.assertEqual(last["AccessKeyLastUsed"]["Region"], "N/A")
        self.parallel([("iam", "delete-access-key", "--user-name", "k", "--access-key-id", x)
                       for x in (k["AccessKeyId"], k2["AccessKeyId"])])
        self.fails("NoSuchEntity", 404, "iam", "delete-access-key", "--user-name", "k",
                   "--access-key-id", k["AccessKeyId"])
        self.aws("iam", "delete-user", "--user-name", "k")

    def test_oidc_providers(self):
        url = "https://oidc.eks.eu-west-1.amazonaws.com/id/0123456789ABCDEF"
        tp = "9e99a48a9960b14926bb7f3b02e22da2b0ab7280"
        arn = self.aws("iam", "create-open-id-connect-provider", "--url", url,
                       "--client-id-list", "sts.amazonaws.com", "other",
                       "--thumbprint-list", tp,
                       "--tags", "Key=k,Value=v")["OpenIDConnectProviderArn"]
        self.assertEqual(arn, "arn:aws:iam::%s:oidc-provider/%s" % (ACCOUNT, url[8:]))
        got = self.aws("iam", "get-open-id-connect-provider",
                       "--open-id-connect-provider-arn", arn)
        self.assertEqual((got["Url"], got["ClientIDList"], got["ThumbprintList"]),
                         (url[8:], ["sts.amazonaws.com", "other"], [tp]))
        self.assertEqual(got["Tags"], [{"Key": "k", "Value": "v"}])
        self.assertEqual(self.aws("iam", "list-open-id-connect-providers")
                         ["OpenIDConnectProviderList"], [{"Arn": arn}])
        self.aws("iam", "add-client-id-to-open-id-connect-provider",
                 "--open-id-connect-provider-arn", arn, "--client-id", "third")
        self.aws("iam", "remove-client-id-from-open-id-connect-provider",
                 "--open-id-connect-provider-arn", arn, "--client-id", "other")
        self.aws("iam", "update-open-id-connect-provider-thumbprint",
                 "--open-id-connect-provider-arn", arn, "--thumbprint-list", "f" * 40, "e" * 40)
        self.aws("iam", "tag-open-id-connect-provider", "--open-id-connect-provider-arn", arn,
                 "--tags", "Key=k2,Value=v2")
        self.aws("iam", "untag-open-id-connect-provider", "--open-id-connect-provider-arn", arn,
                 "--tag-keys", "k")
        got = self.aws("iam", "get-open-id-connect-provider",
                       "--open-id-connect-provider-arn", arn)
        self.assertEqual(got["ClientIDList"], ["sts.amazonaws.com", "third"])
        self.assertEqual(got["ThumbprintList"], ["f" * 40, "e" * 40])
        self.assertEqual(self.aws("iam", "list-open-id-connect-provider-tags",
                                  "--open-id-connect-provider-arn", arn)["Tags"],
                         [{"Key": "k2", "Value": "v2"}])
        self.fails("EntityAlreadyExists", 409, "iam", "create-open-id-connect-provider",
                   "--url", url, "--client-id-list", "x", "--thumbprint-list", tp)
        self.aws("iam", "delete-open-id-connect-provider", "--open-id-connect-provider-arn", arn)
        self.fails("NoSuchEntity", 404, "iam", "get-open-id-connect-provider",
                   "--open-id-connect-provider-arn", arn)


class PaginationCliTest(CliCase):
    def requests(self, op):
        return len(re.findall(r"\biam\.%s 200\b" % op, self.p.logs()))

    def test_auto_pagination(self):
        names = ["user%02d" % i for i in range(7)]
        self.parallel([("iam", "create-user", "--user-name", n) for n in names])
        before = self.requests("ListUsers")
        allu = self.aws("iam", "list-users", "--page-size", "2")["Users"]
        self.assertEqual(sorted(u["UserName"] for u in allu), names)
        if self.p.proc:  # our own process: its access log shows the pages
            self.assertEqual(self.requests("ListUsers") - before, 4)

        first = self.aws("iam", "list-users", "--max-items", "3", "--page-size", "2")
        self.assertEqual(len(first["Users"]), 3)
        self.assertIn("NextToken", first)
        rest = self.aws("iam", "list-users", "--page-size", "2", "--starting-token",
                        first["NextToken"])
        self.assertNotIn("NextToken", rest)
        self.assertEqual(sorted(u["UserName"] for u in first["Users"] + rest["Users"]), names)

        q = self.aws("iam", "list-users", "--max-items", "2", "--query", "Users[].UserName")
        self.assertEqual(len(q), 2)

    def test_account_authorization_details(self):
        arn = self.aws("iam", "create-policy", "--policy-name", "gp", "--policy-document",
                       json.dumps(doc(1)))["Policy"]["Arn"]
        self.parallel([("iam", "create-user", "--user-name", "u", "--path", "/p/"),
                       ("iam", "create-group", "--group-name", "g"),
                       ("iam", "create-role", "--role-name", "r", "--assume-role-policy-document",
                        json.dumps(TRUST))])
        self.parallel([("iam", "add-user-to-group", "--group-name", "g", "--user-name", "u"),
                       ("iam", "attach-role-policy", "--role-name", "r", "--policy-arn", arn),
                       ("iam", "put-user-policy", "--user-name", "u", "--policy-name", "i",
                        "--policy-document", json.dumps(doc(2)))])
        d = self.aws("iam", "get-account-authorization-details", "--page-size", "1")
        self.assertEqual([u["UserName"] for u in d["UserDetailList"]], ["u"])
        self.assertEqual(d["UserDetailList"][0]["GroupList"], ["g"])
        self.assertEqual(d["UserDetailList"][0]["UserPolicyList"][0]["PolicyDocument"], doc(2))
        self.assertEqual([g["GroupName"] for g in d["GroupDetailList"]], ["g"])
        self.assertEqual(d["RoleDetailList"][0]["AttachedManagedPolicies"],
                         [{"PolicyName": "gp", "PolicyArn": arn}])
        self.assertEqual([p["Arn"] for p in d["Policies"]], [arn])
        only = self.aws("iam", "get-account-authorization-details", "--filter", "User")
        self.assertEqual((len(only["UserDetailList"]), len(only["RoleDetailList"])), (1, 0))


if __name__ == "__main__":
    unittest.main()
