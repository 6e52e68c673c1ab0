"""IAM end to end with boto3: every entity created, read, listed, updated and deleted, the
errors clients see (code, HTTP status, Type), ids, ARNs and pagination.

boto3 gets endpoint_url explicitly (Debian's boto3 1.26 predates AWS_ENDPOINT_URL). Each
test starts from POST /_podiam/reset, so the tests are independent.
"""
import json
import re
import unittest

import botocore.exceptions

from podiam_harness import Podiam

ACCOUNT = "000000000000"
TRUST = {"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
    "Action": "sts:AssumeRole"}]}
DOC = {"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::bucket/*"}]}

# What a user may do to itself: the usual self-service policy, with a policy variable.
SELF_SERVICE = {"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Action": ["iam:GetUser", "iam:*AccessKey*"],
    "Resource": "arn:aws:iam::*:user/${aws:username}"}]}


def doc(n):
    """A distinct policy document per n."""
    return {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b%d/*" % n}]}


ID_RE = {p: re.compile(r"^%s[A-Z2-7]{17}$" % p) for p in ("AIDA", "AROA", "ANPA", "AGPA")}
AKIA_RE = re.compile(r"^AKIA[A-Z2-7]{16}$")


class IamCase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.p = Podiam.shared()
        cls.iam = cls.p.boto3("iam")

    def setUp(self):
        self.p.reset()

    def assertError(self, cm, code, status, message=None):
        e = cm.exception.response
        self.assertEqual(e["Error"]["Code"], code, e)
        self.assertEqual(e["ResponseMetadata"]["HTTPStatusCode"], status, e)
        self.assertEqual(e["Error"].get("Type"), "Sender" if status < 500 else "Receiver")
        self.assertRegex(e["ResponseMetadata"]["RequestId"], r"^[0-9a-f-]{36}$")
        if message is not None:
            self.assertEqual(e["Error"]["Message"], message)

    def fails(self):
        return self.assertRaises(botocore.exceptions.ClientError)


class UsersTest(IamCase):
    def test_user_lifecycle(self):
        iam = self.iam
        u = iam.create_user(UserName="alice", Path="/eng/team/",
                            Tags=[{"Key": "team", "Value": "eng"}])["User"]
        self.assertEqual(u["UserName"], "alice")
        self.assertEqual(u["Path"], "/eng/team/")
        self.assertEqual(u["Arn"], "arn:aws:iam::%s:user/eng/team/alice" % ACCOUNT)
        self.assertRegex(u["UserId"], ID_RE["AIDA"])
        self.assertEqual(u["Tags"], [{"Key": "team", "Value": "eng"}])
        self.assertIsNotNone(u["CreateDate"].tzinfo)

        got = iam.get_user(UserName="ALICE")["User"]  # names are case-insensitive
        self.assertEqual(got["UserName"], "alice")
        self.assertEqual(got["UserId"], u["UserId"])
        self.assertEqual(got["CreateDate"], u["CreateDate"])

        iam.create_user(UserName="bob")
        names = [x["UserName"] for x in iam.list_users()["Users"]]
        self.assertEqual(sorted(names), ["alice", "bob"])
        eng = iam.list_users(PathPrefix="/eng/")["Users"]
        self.assertEqual([x["UserName"] for x in eng], ["alice"])
        self.assertNotIn("Tags", eng[0])  # ListUsers leaves tags out, as AWS does

        iam.update_user(UserName="alice", NewUserName="alice2", NewPath="/ops/")
        with self.fails() as cm:
            iam.get_user(UserName="alice")
        self.assertError(cm, "NoSuchEntity", 404, "The user with name alice cannot be found.")
        got = iam.get_user(UserName="alice2")["User"]
        self.assertEqual(got["Arn"], "arn:aws:iam::%s:user/ops/alice2" % ACCOUNT)
        self.assertEqual(got["UserId"], u["UserId"])

        with self.fails() as cm:
            iam.update_user(UserName="bob", NewUserName="ALICE2")
        self.assertError(cm, "EntityAlreadyExists", 409, "User with name ALICE2 already exists.")

        iam.delete_user(UserName="alice2")
        iam.delete_user(UserName="bob")
        self.assertEqual(iam.list_users()["Users"], [])

    def test_get_user_without_name_is_the_caller(self):
        root = self.iam.get_user()["User"]
        self.assertEqual(root["Arn"], "arn:aws:iam::%s:root" % ACCOUNT)
        self.assertEqual(root["UserId"], ACCOUNT)
        self.iam.create_user(UserName="me")
        k = self.iam.create_access_key(UserName="me")["AccessKey"]
        mine = self.p.boto3("iam", key=k["AccessKeyId"], secret=k["SecretAccessKey"])
        with self.fails() as cm:  # a user needs iam:GetUser even on itself
            mine.get_user()
        self.assertEqual(cm.exception.response["Error"]["Code"], "AccessDenied")
        self.iam.put_user_policy(UserName="me", PolicyName="self", PolicyDocument=json.dumps(
            SELF_SERVICE))
        self.assertEqual(mine.get_user()["User"]["UserName"], "me")

    def test_user_tags(self):
        iam = self.iam
        iam.create_user(UserName="t")
        iam.tag_user(UserName="t", Tags=[{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}])
        iam.tag_user(UserName="t", Tags=[{"Key": "a", "Value": "3"}])
        tags = iam.list_user_tags(UserName="t")["Tags"]
        self.assertEqual({t["Key"]: t["Value"] for t in tags}, {"a": "3", "b": "2"})
        iam.untag_user(UserName="t", TagKeys=["a"])
        self.assertEqual(iam.list_user_tags(UserName="t")["Tags"], [{"Key": "b", "Value": "2"}])
        self.assertEqual(iam.get_user(UserName="t")["User"]["Tags"], [{"Key": "b", "Value": "2"}])
        with self.fails() as cm:
            iam.tag_user(UserName="t", Tags=[{"Key": "k%d" % i, "Value": "v"} for i in range(50)])
        self.assertError(cm, "LimitExceeded", 409)
        with self.fails() as cm:
            iam.tag_user(UserName="t",
                         Tags=[{"Key": "x", "Value": "1"}, {"Key": "X", "Value": "2"}])
        self.assertError(cm, "InvalidInput", 400)

    def test_permissions_boundary(self):
        iam = self.iam
        pol = iam.create_policy(PolicyName="bound", PolicyDocument=json.dumps(DOC))["Policy"]
        iam.create_user(UserName="b", PermissionsBoundary=pol["Arn"])
        pb = iam.get_user(UserName="b")["User"]["PermissionsBoundary"]
        self.assertEqual(pb, {"PermissionsBoundaryType": "PermissionsBoundaryPolicy",
                              "PermissionsBoundaryArn": pol["Arn"]})
        self.assertEqual(iam.get_policy(PolicyArn=pol["Arn"])["Policy"]
                         ["PermissionsBoundaryUsageCount"], 1)
        iam.delete_user_permissions_boundary(UserName="b")
        self.assertNotIn("PermissionsBoundary", iam.get_user(UserName="b")["User"])
        aws = "arn:aws:iam::aws:policy/IAMReadOnlyAccess"
        iam.put_user_permissions_boundary(UserName="b", PermissionsBoundary=aws)
        self.assertEqual(iam.get_user(UserName="b")["User"]["PermissionsBoundary"]
                         ["PermissionsBoundaryArn"], aws)
        with self.fails() as cm:
            iam.put_user_permissions_boundary(
                UserName="b", PermissionsBoundary="arn:aws:iam::%s:policy/none" % ACCOUNT)
        self.assertError(cm, "NoSuchEntity", 404)

    def test_user_errors(self):
        iam = self.iam
        iam.create_user(UserName="dup")
        with self.fails() as cm:
            iam.create_user(UserName="DUP")
        self.assertError(cm, "EntityAlreadyExists", 409, "User with name DUP already exists.")
        with self.fails() as cm:
            iam.create_user(UserName="bad name")
        self.assertError(cm, "ValidationError", 400)
        self.assertIn("userName", cm.exception.response["Error"]["Message"])
        with self.fails() as cm:
            iam.create_user(UserName="x", Path="no-slash")
        self.assertError(cm, "ValidationError", 400)
        with self.fails() as cm:
            iam.delete_user(UserName="ghost")
        self.assertError(cm, "NoSuchEntity", 404, "The user with name ghost cannot be found.")

    def test_delete_user_conflicts(self):
        iam = self.iam
        iam.create_user(UserName="c")
        k = iam.create_access_key(UserName="c")["AccessKey"]["AccessKeyId"]
        with self.fails() as cm:
            iam.delete_user(UserName="c")
        self.assertError(cm, "DeleteConflict", 409,
                         "Cannot delete entity, must delete access keys first.")
        iam.delete_access_key(UserName="c", AccessKeyId=k)
        iam.put_user_policy(UserName="c", PolicyName="p", PolicyDocument=json.dumps(DOC))
        with self.fails() as cm:
            iam.delete_user(UserName="c")
        self.assertError(cm, "DeleteConflict", 409,
                         "Cannot delete entity, must delete policies first.")
        iam.delete_user_policy(UserName="c", PolicyName="p")
        arn = "arn:aws:iam::aws:policy/ReadOnlyAccess"
        iam.attach_user_policy(UserName="c", PolicyArn="arn:aws:iam::aws:policy/IAMReadOnlyAccess")
        with self.fails() as cm:
            iam.delete_user(UserName="c")
        self.assertError(cm, "DeleteConflict", 409,
                         "Cannot delete entity, must detach all policies first.")
        iam.detach_user_policy(UserName="c", PolicyArn="arn:aws:iam::aws:policy/IAMReadOnlyAccess")
        iam.create_group(GroupName="g")
        iam.add_user_to_group(GroupName="g", UserName="c")
        with self.fails() as cm:
            iam.delete_user(UserName="c")
        self.assertError(cm, "DeleteConflict", 409,
                         "Cannot delete entity, must remove user from all groups first.")
        iam.remove_user_from_group(GroupName="g", UserName="c")
        iam.delete_user(UserName="c")
        with self.fails() as cm:
            iam.attach_user_policy(UserName="g", PolicyArn=arn)
        self.assertError(cm, "NoSuchEntity", 404)


class GroupsTest(IamCase):
    def test_group_lifecycle_and_membership(self):
        iam = self.iam
        g = iam.create_group(GroupName="devs", Path="/eng/")["Group"]
        self.assertRegex(g["GroupId"], ID_RE["AGPA"])
        self.assertEqual(g["Arn"], "arn:aws:iam::%s:group/eng/devs" % ACCOUNT)
        iam.create_group(GroupName="ops")
        for n in ("u1", "u2"):
            iam.create_user(UserName=n)
        iam.add_user_to_group(GroupName="devs", UserName="u1")
        iam.add_user_to_group(GroupName="devs", UserName="u2")
        iam.add_user_to_group(GroupName="ops", UserName="u1")
        iam.add_user_to_group(GroupName="ops", UserName="u1")  # idempotent, as on AWS

        got = iam.get_group(GroupName="devs")
        self.assertEqual(got["Group"]["GroupId"], g["GroupId"])
        self.assertEqual(sorted(u["UserName"] for u in got["Users"]), ["u1", "u2"])
        self.assertFalse(got["IsTruncated"])
        page = iam.get_group(GroupName="devs", MaxItems=1)
        self.assertTrue(page["IsTruncated"])
        self.assertEqual(len(page["Users"]), 1)
        rest = iam.get_group(GroupName="devs", Marker=page["Marker"])
        self.assertEqual(len(rest["Users"]), 1)
        self.assertNotEqual(rest["Users"][0]["UserName"], page["Users"][0]["UserName"])

        groups = iam.list_groups_for_user(UserName="u1")["Groups"]
        self.assertEqual(sorted(x["GroupName"] for x in groups), ["devs", "ops"])
        self.assertEqual([x["GroupName"] for x in iam.list_groups(PathPrefix="/eng/")["Groups"]],
                         ["devs"])

        with self.fails() as cm:
            iam.delete_group(GroupName="devs")
        self.assertError(cm, "DeleteConflict", 409)

        iam.update_group(GroupName="devs", NewGroupName="developers", NewPath="/")
        got = iam.get_group(GroupName="developers")
        self.assertEqual(got["Group"]["Arn"], "arn:aws:iam::%s:group/developers" % ACCOUNT)
        self.assertEqual(len(got["Users"]), 2)

        iam.remove_user_from_group(GroupName="developers", UserName="u1")
        iam.remove_user_from_group(GroupName="developers", UserName="u2")
        self.assertEqual(iam.list_groups_for_user(UserName="u2")["Groups"], [])
        iam.delete_group(GroupName="developers")
        with self.fails() as cm:
            iam.get_group(GroupName="developers")
        self.assertError(cm, "NoSuchEntity", 404, "The group with name developers cannot be found.")
        with self.fails() as cm:
            iam.create_group(GroupName="OPS")
        self.assertError(cm, "EntityAlreadyExists", 409)
        with self.fails() as cm:
            iam.add_user_to_group(GroupName="ops", UserName="ghost")
        self.assertError(cm, "NoSuchEntity", 404)
        with self.fails() as cm:
            iam.remove_user_from_group(GroupName="ops", UserName="u2")
        self.assertError(cm, "NoSuchEntity", 404)


class RolesTest(IamCase):
    def test_role_lifecycle(self):
        iam = self.iam
        pol = iam.create_policy(PolicyName="rb", PolicyDocument=json.dumps(DOC))["Policy"]
        r = iam.create_role(RoleName="app", Path="/svc/",
                            AssumeRolePolicyDocument=json.dumps(TRUST),
                            Description="the app", MaxSessionDuration=7200,
                            PermissionsBoundary=pol["Arn"],
                            Tags=[{"Key": "env", "Value": "ci"}])["Role"]
        self.assertRegex(r["RoleId"], ID_RE["AROA"])
        self.assertEqual(r["Arn"], "arn:aws:iam::%s:role/svc/app" % ACCOUNT)
        self.assertEqual(r["AssumeRolePolicyDocument"], TRUST)  # botocore decodes it
        self.assertEqual(r["MaxSessionDuration"], 7200)
        self.assertEqual(r["Description"], "the app")

        got = iam.get_role(RoleName="APP")["Role"]
        self.assertEqual(got["RoleName"], "app")
        self.assertEqual(got["RoleId"], r["RoleId"])
        self.assertEqual(got["Tags"], [{"Key": "env", "Value": "ci"}])
        self.assertEqual(got["PermissionsBoundary"]["PermissionsBoundaryArn"], pol["Arn"])
        self.assertEqual(got["AssumeRolePolicyDocument"], TRUST)
        self.assertIn("RoleLastUsed", got)

        iam.update_role(RoleName="app", Description="changed", MaxSessionDuration=43200)
        got = iam.get_role(RoleName="app")["Role"]
        self.assertEqual((got["Description"], got["MaxSessionDuration"]), ("changed", 43200))
        out = iam.update_role_description(RoleName="app", Description="again")["Role"]
        self.assertEqual(out["Description"], "again")

        trust2 = {"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::%s:root" % ACCOUNT},
            "Action": "sts:AssumeRole"}]}
        iam.update_assume_role_policy(RoleName="app", PolicyDocument=json.dumps(trust2))
        self.assertEqual(iam.get_role(RoleName="app")["Role"]["AssumeRolePolicyDocument"], trust2)

        iam.tag_role(RoleName="app", Tags=[{"Key": "owner", "Value": "me"}])
        tags = iam.list_role_tags(RoleName="app")["Tags"]
        self.assertEqual({t["Key"] for t in tags}, {"env", "owner"})
        iam.untag_role(RoleName="app", TagKeys=["env"])
        self.assertEqual(iam.list_role_tags(RoleName="app")["Tags"],
                         [{"Key": "owner", "Value": "me"}])

        iam.delete_role_permissions_boundary(RoleName="app")
        self.assertNotIn("PermissionsBoundary", iam.get_role(RoleName="app")["Role"])
        iam.put_role_permissions_boundary(RoleName="app", PermissionsBoundary=pol["Arn"])
        self.assertIn("PermissionsBoundary", iam.get_role(RoleName="app")["Role"])

        iam.create_role(RoleName="other", AssumeRolePolicyDocument=json.dumps(TRUST))
        self.assertEqual(sorted(x["RoleName"] for x in iam.list_roles()["Roles"]), ["app", "other"])
        self.assertEqual([x["RoleName"] for x in iam.list_roles(PathPrefix="/svc/")["Roles"]],
                         ["app"])

        iam.delete_role(RoleName="app")
        with self.fails() as cm:
            iam.get_role(RoleName="app")
        self.assertError(cm, "NoSuchEntity", 404, "The role with name app cannot be found.")

    def test_role_errors(self):
        iam = self.iam
        iam.create_role(RoleName="r", AssumeRolePolicyDocument=json.dumps(TRUST))
        with self.fails() as cm:
            iam.create_role(RoleName="R", AssumeRolePolicyDocument=json.dumps(TRUST))
        self.assertError(cm, "EntityAlreadyExists", 409, "Role with name R already exists.")
        with self.fails() as cm:
            iam.create_role(RoleName="bad", AssumeRolePolicyDocument="{not json")
        self.assertError(cm, "MalformedPolicyDocument", 400)
        with self.fails() as cm:
            iam.update_assume_role_policy(RoleName="r", PolicyDocument="[1,")
        self.assertError(cm, "MalformedPolicyDocument", 400)
        with self.fails() as cm:
            iam.update_role(RoleName="r", MaxSessionDuration=50000)
        self.assertError(cm, "ValidationError", 400)
        self.assertIn("maxSessionDuration", cm.exception.response["Error"]["Message"])
        ghost = {"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::%s:user/ghost" % ACCOUNT},
            "Action": "sts:AssumeRole"}]}
        with self.fails() as cm:
            iam.create_role(RoleName="g", AssumeRolePolicyDocument=json.dumps(ghost))
        self.assertError(cm, "MalformedPolicyDocument", 400)
        self.assertIn("Invalid principal", cm.exception.response["Error"]["Message"])

        iam.put_role_policy(RoleName="r", PolicyName="p", PolicyDocument=json.dumps(DOC))
        with self.fails() as cm:
            iam.delete_role(RoleName="r")
        self.assertError(cm, "DeleteConflict", 409,
                         "Cannot delete entity, must delete policies first.")
        iam.delete_role_policy(RoleName="r", PolicyName="p")
        iam.attach_role_policy(RoleName="r",
                               PolicyArn="arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")
        with self.fails() as cm:
            iam.delete_role(RoleName="r")
        self.assertError(cm, "DeleteConflict", 409,
                         "Cannot delete entity, must detach all policies first.")


class PoliciesTest(IamCase):
    def test_managed_policy_and_versions(self):
        iam = self.iam
        p = iam.create_policy(PolicyName="mp", Path="/team/", PolicyDocument=json.dumps(doc(1)),
                              Description="managed", Tags=[{"Key": "k", "Value": "v"}])["Policy"]
        arn = p["Arn"]
        self.assertEqual(arn, "arn:aws:iam::%s:policy/team/mp" % ACCOUNT)
        self.assertRegex(p["PolicyId"], ID_RE["ANPA"])
        self.assertEqual(p["DefaultVersionId"], "v1")
        self.assertEqual(p["AttachmentCount"], 0)
        self.assertTrue(p["IsAttachable"])
        got = iam.get_policy(PolicyArn=arn)["Policy"]
        self.assertEqual(got["Description"], "managed")
        self.assertEqual(got["Tags"], [{"Key": "k", "Value": "v"}])

        for n in range(2, 6):
            v = iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(doc(n)),
                                          SetAsDefault=(n == 3))["PolicyVersion"]
            self.assertEqual(v["VersionId"], "v%d" % n)
            self.assertEqual(v["IsDefaultVersion"], n == 3)
        self.assertEqual(iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"], "v3")
        with self.fails() as cm:
            iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(doc(6)))
        self.assertError(cm, "LimitExceeded", 409,
                         "A managed policy can have up to 5 versions. Before you create a new "
                         "version, you must delete an existing version.")
        versions = iam.list_policy_versions(PolicyArn=arn)["Versions"]
        self.assertEqual(sorted(v["VersionId"] for v in versions), ["v1", "v2", "v3", "v4", "v5"])
        self.assertEqual([v["VersionId"] for v in versions if v["IsDefaultVersion"]], ["v3"])

        v = iam.get_policy_version(PolicyArn=arn, VersionId="v4")["PolicyVersion"]
        self.assertEqual(v["Document"], doc(4))
        self.assertFalse(v["IsDefaultVersion"])

        iam.set_default_policy_version(PolicyArn=arn, VersionId="v5")
        self.assertEqual(iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"], "v5")
        with self.fails() as cm:
            iam.delete_policy_version(PolicyArn=arn, VersionId="v5")
        self.assertError(cm, "DeleteConflict", 409,
                         "Cannot delete the default version of a policy.")
        iam.delete_policy_version(PolicyArn=arn, VersionId="v2")
        with self.fails() as cm:
            iam.get_policy_version(PolicyArn=arn, VersionId="v2")
        self.assertError(cm, "NoSuchEntity", 404)
        v = iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(doc(7)))
        self.assertEqual(v["PolicyVersion"]["VersionId"], "v6")  # numbers are never reused
        with self.fails() as cm:
            iam.set_default_policy_version(PolicyArn=arn, VersionId="v2")
        self.assertError(cm, "NoSuchEntity", 404)

        iam.tag_policy(PolicyArn=arn, Tags=[{"Key": "k2", "Value": "v2"}])
        iam.untag_policy(PolicyArn=arn, TagKeys=["k"])
        self.assertEqual(iam.list_policy_tags(PolicyArn=arn)["Tags"],
                         [{"Key": "k2", "Value": "v2"}])

        local = iam.list_policies(Scope="Local")["Policies"]
        self.assertEqual([x["Arn"] for x in local], [arn])
        aws = iam.list_policies(Scope="AWS", MaxItems=1000)["Policies"]
        self.assertIn("arn:aws:iam::aws:policy/AdministratorAccess", [x["Arn"] for x in aws])
        self.assertEqual(iam.list_policies(Scope="Local", PathPrefix="/other/")["Policies"], [])

        with self.fails() as cm:
            iam.delete_policy(PolicyArn=arn)
        self.assertError(cm, "DeleteConflict", 409,
                         "This policy has more than one version. Before you delete a policy, "
                         "you must delete the policy's versions. The default version is "
                         "deleted with the policy.")
        for v in iam.list_policy_versions(PolicyArn=arn)["Versions"]:
            if not v["IsDefaultVersion"]:
                iam.delete_policy_version(PolicyArn=arn, VersionId=v["VersionId"])
        iam.delete_policy(PolicyArn=arn)
        with self.fails() as cm:
            iam.get_policy(PolicyArn=arn)
        self.assertError(cm, "NoSuchEntity", 404, "Policy %s was not found." % arn)

    def test_policy_errors(self):
        iam = self.iam
        iam.create_policy(PolicyName="e", PolicyDocument=json.dumps(DOC))
        with self.fails() as cm:
            iam.create_policy(PolicyName="e", PolicyDocument=json.dumps(DOC))
        self.assertError(cm, "EntityAlreadyExists", 409)
        with self.fails() as cm:
            iam.create_policy(PolicyName="bad", PolicyDocument="{\"Version\": ")
        self.assertError(cm, "MalformedPolicyDocument", 400)
        big = {"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Action": "s3:GetObject",
            "Resource": ["arn:aws:s3:::%s/*" % ("b" * 60 + str(i)) for i in range(100)]}]}
        with self.fails() as cm:
            iam.create_policy(PolicyName="big", PolicyDocument=json.dumps(big))
        self.assertError(cm, "LimitExceeded", 409)
        with self.fails() as cm:
            iam.get_policy(PolicyArn="not-an-arn-at-all-really")
        self.assertError(cm, "InvalidInput", 400)
        with self.fails() as cm:
            iam.delete_policy(PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
        self.assertIn(cm.exception.response["Error"]["Code"],
                      ("AccessDenied", "UnmodifiableEntity"))

    def test_inline_policies(self):
        iam = self.iam
        iam.create_user(UserName="u")
        iam.create_group(GroupName="g")
        iam.create_role(RoleName="r", AssumeRolePolicyDocument=json.dumps(TRUST))
        kinds = [("user", "UserName", "u"), ("group", "GroupName", "g"), ("role", "RoleName", "r")]
        for kind, key, name in kinds:
            put = getattr(iam, "put_%s_policy" % kind)
            get = getattr(iam, "get_%s_policy" % kind)
            lst = getattr(iam, "list_%s_policies" % kind)
            dele = getattr(iam, "delete_%s_policy" % kind)
            put(**{key: name, "PolicyName": "one", "PolicyDocument": json.dumps(doc(1))})
            put(**{key: name, "PolicyName": "two", "PolicyDocument": json.dumps(doc(2))})
            put(**{key: name, "PolicyName": "one", "PolicyDocument": json.dumps(doc(3))})
            got = get(**{key: name, "PolicyName": "one"})
            self.assertEqual(got[key], name)
            self.assertEqual(got["PolicyName"], "one")
            self.assertEqual(got["PolicyDocument"], doc(3))
            self.assertEqual(sorted(lst(**{key: name})["PolicyNames"]), ["one", "two"])
            page = lst(**{key: name, "MaxItems": 1})
            self.assertTrue(page["IsTruncated"])
            dele(**{key: name, "PolicyName": "one"})
            self.assertEqual(lst(**{key: name})["PolicyNames"], ["two"])
            with self.fails() as cm:
                get(**{key: name, "PolicyName": "one"})
            self.assertError(cm, "NoSuchEntity", 404,
                             "The %s policy with name one cannot be found." % kind)
            with self.fails() as cm:
                put(**{key: name, "PolicyName": "bad", "PolicyDocument": "nope"})
            self.assertError(cm, "MalformedPolicyDocument", 400)
            dele(**{key: name, "PolicyName": "two"})
        with self.fails() as cm:
            iam.put_user_policy(UserName="ghost", PolicyName="p", PolicyDocument=json.dumps(DOC))
        self.assertError(cm, "NoSuchEntity", 404)

    def test_attach_detach_and_entities_for_policy(self):
        iam = self.iam
        arn = iam.create_policy(PolicyName="att", PolicyDocument=json.dumps(DOC))["Policy"]["Arn"]
        u = iam.create_user(UserName="u")["User"]
        g = iam.create_group(GroupName="g")["Group"]
        r = iam.create_role(RoleName="r", AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]
        aws = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
        iam.attach_user_policy(UserName="u", PolicyArn=arn)
        iam.attach_user_policy(UserName="u", PolicyArn=aws)
        iam.attach_group_policy(GroupName="g", PolicyArn=arn)
        iam.attach_role_policy(RoleName="r", PolicyArn=arn)
        self.assertEqual(iam.get_policy(PolicyArn=arn)["Policy"]["AttachmentCount"], 3)

        att = iam.list_attached_user_policies(UserName="u")["AttachedPolicies"]
        self.assertEqual(sorted((a["PolicyName"], a["PolicyArn"]) for a in att),
                         sorted([("att", arn), ("AmazonS3ReadOnlyAccess", aws)]))
        self.assertEqual(iam.list_attached_group_policies(GroupName="g")["AttachedPolicies"],
                         [{"PolicyName": "att", "PolicyArn": arn}])
        self.assertEqual(iam.list_attached_role_policies(RoleName="r")["AttachedPolicies"],
                         [{"PolicyName": "att", "PolicyArn": arn}])

        ents = iam.list_entities_for_policy(PolicyArn=arn)
        self.assertEqual(ents["PolicyUsers"], [{"UserName": "u", "UserId": u["UserId"]}])
        self.assertEqual(ents["PolicyGroups"], [{"GroupName": "g", "GroupId": g["GroupId"]}])
        self.assertEqual(ents["PolicyRoles"], [{"RoleName": "r", "RoleId": r["RoleId"]}])
        only_roles = iam.list_entities_for_policy(PolicyArn=arn, EntityFilter="Role")
        self.assertEqual(only_roles["PolicyUsers"], [])
        self.assertEqual(len(only_roles["PolicyRoles"]), 1)

        with self.fails() as cm:
            iam.delete_policy(PolicyArn=arn)
        self.assertError(cm, "DeleteConflict", 409, "Cannot delete a policy attached to entities.")
        with self.fails() as cm:
            iam.attach_role_policy(RoleName="r",
                                   PolicyArn="arn:aws:iam::%s:policy/missing" % ACCOUNT)
        self.assertError(cm, "NoSuchEntity", 404,
                         "Policy arn:aws:iam::%s:policy/missing does not exist or is not "
                         "attachable." % ACCOUNT)

        iam.detach_user_policy(UserName="u", PolicyArn=arn)
        iam.detach_group_policy(GroupName="g", PolicyArn=arn)
        iam.detach_role_policy(RoleName="r", PolicyArn=arn)
        with self.fails() as cm:
            iam.detach_role_policy(RoleName="r", PolicyArn=arn)
        self.assertError(cm, "NoSuchEntity", 404)
        self.assertEqual(iam.list_attached_role_policies(RoleName="r")["AttachedPolicies"], [])
        ents = iam.list_entities_for_policy(PolicyArn=arn)
        self.assertEqual((ents["PolicyUsers"], ents["PolicyGroups"], ents["PolicyRoles"]),
                         ([], [], []))
        iam.delete_policy(PolicyArn=arn)


class AccessKeysTest(IamCase):
    def test_access_key_lifecycle(self):
        iam = self.iam
        iam.create_user(UserName="k")
        k1 = iam.create_access_key(UserName="k")["AccessKey"]
        self.assertRegex(k1["AccessKeyId"], AKIA_RE)
        self.assertEqual(len(k1["SecretAccessKey"]), 40)
        self.assertEqual(k1["Status"], "Active")
        self.assertEqual(k1["UserName"], "k")
        k2 = iam.create_access_key(UserName="k")["AccessKey"]
        with self.fails() as cm:
            iam.create_access_key(UserName="k")
        self.assertError(cm, "LimitExceeded", 409, "Cannot exceed quota for AccessKeysPerUser: 2")

        keys = iam.list_access_keys(UserName="k")["AccessKeyMetadata"]
        self.assertEqual(sorted(x["AccessKeyId"] for x in keys),
                         sorted([k1["AccessKeyId"], k2["AccessKeyId"]]))
        self.assertNotIn("SecretAccessKey", keys[0])

        last = iam.get_access_key_last_used(AccessKeyId=k1["AccessKeyId"])
        self.assertEqual(last["UserName"], "k")
        self.assertEqual(last["AccessKeyLastUsed"]["ServiceName"], "N/A")
        self.assertEqual(last["AccessKeyLastUsed"]["Region"], "N/A")
        self.assertNotIn("LastUsedDate", last["AccessKeyLastUsed"])

        iam.update_access_key(UserName="k", AccessKeyId=k1["AccessKeyId"], Status="Inactive")
        st = {x["AccessKeyId"]: x["Status"]
              for x in iam.list_access_keys(UserName="k")["AccessKeyMetadata"]}
        self.assertEqual(st[k1["AccessKeyId"]], "Inactive")
        iam.update_access_key(UserName="k", AccessKeyId=k1["AccessKeyId"], Status="Active")

        iam.delete_access_key(UserName="k", AccessKeyId=k1["AccessKeyId"])
        with self.fails() as cm:
            iam.delete_access_key(UserName="k", AccessKeyId=k1["AccessKeyId"])
        self.assertError(cm, "NoSuchEntity", 404,
                         "The Access Key with id %s cannot be found." % k1["AccessKeyId"])
        with self.fails() as cm:
            iam.update_access_key(UserName="k", AccessKeyId=k2["AccessKeyId"], Status="Sometimes")
        self.assertIn(cm.exception.response["Error"]["Code"], ("ValidationError",))
        iam.delete_access_key(UserName="k", AccessKeyId=k2["AccessKeyId"])
        self.assertEqual(iam.list_access_keys(UserName="k")["AccessKeyMetadata"], [])

    def test_access_key_last_used_is_recorded(self):
        self.iam.create_user(UserName="k")
        k = self.iam.create_access_key(UserName="k")["AccessKey"]
        sts = self.p.boto3("sts", key=k["AccessKeyId"], secret=k["SecretAccessKey"])
        sts.get_caller_identity()
        used = self.iam.get_access_key_last_used(AccessKeyId=k["AccessKeyId"])
        used = used["AccessKeyLastUsed"]
        self.assertEqual(used["ServiceName"], "sts")
        self.assertEqual(used["Region"], "us-east-1")
        self.assertIn("LastUsedDate", used)

    def test_root_keys_listed_without_user(self):
        keys = self.iam.list_access_keys()["AccessKeyMetadata"]
        self.assertIn("test", [k["AccessKeyId"] for k in keys])


class OidcTest(IamCase):
    URL = "https://oidc.eks.us-east-1.amazonaws.com/id/ABCDEF0123456789"

    def test_oidc_provider_lifecycle(self):
        iam = self.iam
        tp = "9e99a48a9960b14926bb7f3b02e22da2b0ab7280"
        arn = iam.create_open_id_connect_provider(
            Url=self.URL, ClientIDList=["sts.amazonaws.com"], ThumbprintList=[tp],
            Tags=[{"Key": "cluster", "Value": "c1"}])["OpenIDConnectProviderArn"]
        self.assertEqual(arn, "arn:aws:iam::%s:oidc-provider/%s" % (ACCOUNT, self.URL[8:]))
        got = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)
        self.assertEqual(got["Url"], self.URL[8:])
        self.assertEqual(got["ClientIDList"], ["sts.amazonaws.com"])
        self.assertEqual(got["ThumbprintList"], [tp])
        self.assertEqual(got["Tags"], [{"Key": "cluster", "Value": "c1"}])
        self.assertIn("CreateDate", got)

        lst = iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]
        self.assertEqual(lst, [{"Arn": arn}])

        iam.add_client_id_to_open_id_connect_provider(OpenIDConnectProviderArn=arn, ClientID="app")
        iam.add_client_id_to_open_id_connect_provider(OpenIDConnectProviderArn=arn, ClientID="app")
        got = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)
        self.assertEqual(got["ClientIDList"], ["sts.amazonaws.com", "app"])
        iam.remove_client_id_from_open_id_connect_provider(OpenIDConnectProviderArn=arn,
                                                           ClientID="sts.amazonaws.com")
        got = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)
        self.assertEqual(got["ClientIDList"], ["app"])

        tp2 = ["a" * 40, "b" * 40]
        iam.update_open_id_connect_provider_thumbprint(OpenIDConnectProviderArn=arn,
                                                       ThumbprintList=tp2)
        got = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)
        self.assertEqual(got["ThumbprintList"], tp2)

        iam.tag_open_id_connect_provider(OpenIDConnectProviderArn=arn,
                                         Tags=[{"Key": "x", "Value": "y"}])
        iam.untag_open_id_connect_provider(OpenIDConnectProviderArn=arn, TagKeys=["cluster"])
        self.assertEqual(iam.list_open_id_connect_provider_tags(
            OpenIDConnectProviderArn=arn)["Tags"], [{"Key": "x", "Value": "y"}])

        with self.fails() as cm:
            iam.create_open_id_connect_provider(Url=self.URL, ClientIDList=["a"],
                                                ThumbprintList=[tp])
        self.assertError(cm, "EntityAlreadyExists", 409)

        iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=arn)
        with self.fails() as cm:
            iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)
        self.assertError(cm, "NoSuchEntity", 404)
        self.assertEqual(iam.list_open_id_connect_providers()["OpenIDConnectProviderList"], [])

    def test_oidc_errors(self):
        iam = self.iam
        with self.fails() as cm:
            iam.create_open_id_connect_provider(Url="http://insecure.example.com",
                                                ClientIDList=["a"], ThumbprintList=["a" * 40])
        self.assertError(cm, "ValidationError", 400)
        with self.fails() as cm:
            iam.create_open_id_connect_provider(Url=self.URL, ThumbprintList=["z" * 40])
        self.assertIn(cm.exception.response["Error"]["Code"], ("ValidationError", "InvalidInput"))
        self.assertEqual(cm.exception.response["ResponseMetadata"]["HTTPStatusCode"], 400)
        with self.fails() as cm:
            iam.create_open_id_connect_provider(Url=self.URL, ThumbprintList=["a" * 40] * 6)
        self.assertError(cm, "InvalidInput", 400)
        with self.fails() as cm:
            iam.delete_open_id_connect_provider(
                OpenIDConnectProviderArn="arn:aws:iam::%s:oidc-provider/nope.example.com" % ACCOUNT)
        self.assertError(cm, "NoSuchEntity", 404)


class PaginationTest(IamCase):
    def test_paginators(self):
        iam = self.iam
        names = ["user%02d" % i for i in range(7)]
        for n in names:
            iam.create_user(UserName=n)
        first = iam.list_users(MaxItems=3)
        self.assertTrue(first["IsTruncated"])
        self.assertEqual(len(first["Users"]), 3)
        second = iam.list_users(MaxItems=3, Marker=first["Marker"])
        self.assertEqual(len(second["Users"]), 3)
        third = iam.list_users(MaxItems=3, Marker=second["Marker"])
        self.assertFalse(third["IsTruncated"])
        self.assertNotIn("Marker", third)
        seen = [u["UserName"] for u in first["Users"] + second["Users"] + third["Users"]]
        self.assertEqual(sorted(seen), names)
        self.assertEqual(len(set(seen)), 7)

        pages = list(iam.get_paginator("list_users").paginate(PaginationConfig={"PageSize": 2}))
        self.assertEqual(len(pages), 4)
        self.assertEqual(sorted(u["UserName"] for pg in pages for u in pg["Users"]), names)

        res = iam.get_paginator("list_users").paginate(
            PaginationConfig={"PageSize": 2, "MaxItems": 5}).build_full_result()
        self.assertEqual(len(res["Users"]), 5)
        self.assertIn("NextToken", res)
        rest = iam.get_paginator("list_users").paginate(
            PaginationConfig={"PageSize": 2, "StartingToken": res["NextToken"]}).build_full_result()
        self.assertEqual(sorted(u["UserName"] for u in res["Users"] + rest["Users"]), names)

        for n in names[:3]:
            iam.create_role(RoleName="r" + n, AssumeRolePolicyDocument=json.dumps(TRUST))
            iam.create_policy(PolicyName="p" + n, PolicyDocument=json.dumps(DOC))
        roles = iam.get_paginator("list_roles").paginate(
            PaginationConfig={"PageSize": 1}).build_full_result()["Roles"]
        self.assertEqual(len(roles), 3)
        pols = iam.get_paginator("list_policies").paginate(
            Scope="Local", PaginationConfig={"PageSize": 2}).build_full_result()["Policies"]
        self.assertEqual(len(pols), 3)

        with self.fails() as cm:
            iam.list_users(Marker="garbage")
        self.assertEqual(cm.exception.response["ResponseMetadata"]["HTTPStatusCode"], 400)
        with self.fails() as cm:
            iam.list_users(MaxItems=1001)
        self.assertError(cm, "ValidationError", 400)


class AuthorizationDetailsTest(IamCase):
    def test_account_authorization_details(self):
        iam = self.iam
        arn = iam.create_policy(PolicyName="gaad",
                                PolicyDocument=json.dumps(doc(1)))["Policy"]["Arn"]
        iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(doc(2)),
                                  SetAsDefault=True)
        iam.create_group(GroupName="g")
        iam.create_user(UserName="u", Path="/p/")
        iam.add_user_to_group(GroupName="g", UserName="u")
        iam.put_user_policy(UserName="u", PolicyName="inl", PolicyDocument=json.dumps(DOC))
        iam.attach_user_policy(UserName="u", PolicyArn=arn)
        iam.put_group_policy(GroupName="g", PolicyName="ginl", PolicyDocument=json.dumps(DOC))
        iam.create_role(RoleName="r", AssumeRolePolicyDocument=json.dumps(TRUST))
        iam.attach_role_policy(RoleName="r", PolicyArn="arn:aws:iam::aws:policy/IAMReadOnlyAccess")

        d = iam.get_account_authorization_details()
        self.assertFalse(d["IsTruncated"])
        [u] = d["UserDetailList"]
        self.assertEqual(u["Arn"], "arn:aws:iam::%s:user/p/u" % ACCOUNT)
        self.assertEqual(u["GroupList"], ["g"])
        self.assertEqual(u["UserPolicyList"], [{"PolicyName": "inl", "PolicyDocument": DOC}])
        self.assertEqual(u["AttachedManagedPolicies"], [{"PolicyName": "gaad", "PolicyArn": arn}])
        [g] = d["GroupDetailList"]
        self.assertEqual(g["GroupPolicyList"][0]["PolicyName"], "ginl")
        [r] = d["RoleDetailList"]
        self.assertEqual(r["AssumeRolePolicyDocument"], TRUST)
        self.assertEqual(r["AttachedManagedPolicies"][0]["PolicyName"], "IAMReadOnlyAccess")
        pols = {p["PolicyName"]: p for p in d["Policies"]}
        self.assertEqual(set(pols), {"gaad", "IAMReadOnlyAccess"})
        vl = {v["VersionId"]: v for v in pols["gaad"]["PolicyVersionList"]}
        self.assertEqual(set(vl), {"v1", "v2"})
        self.assertTrue(vl["v2"]["IsDefaultVersion"])
        self.assertEqual(vl["v2"]["Document"], doc(2))

        only = iam.get_account_authorization_details(Filter=["Role"])
        self.assertEqual((len(only["UserDetailList"]), len(only["RoleDetailList"])), (0, 1))

        full = iam.get_paginator("get_account_authorization_details").paginate(
            PaginationConfig={"PageSize": 1}).build_full_result()
        self.assertEqual(len(full["UserDetailList"]), 1)
        self.assertEqual(len(full["GroupDetailList"]), 1)
        self.assertEqual(len(full["RoleDetailList"]), 1)
        self.assertEqual(len(full["Policies"]), 2)


class ClientFeaturesTest(IamCase):
    """What boto3 builds on the API: waiters, the resource layer, self-service calls."""

    def test_waiters(self):
        self.iam.create_user(UserName="w")
        self.iam.create_role(RoleName="w", AssumeRolePolicyDocument=json.dumps(TRUST))
        arn = self.iam.create_policy(PolicyName="w",
                                     PolicyDocument=json.dumps(DOC))["Policy"]["Arn"]
        fast = {"Delay": 1, "MaxAttempts": 2}
        self.iam.get_waiter("user_exists").wait(UserName="w", WaiterConfig=fast)
        self.iam.get_waiter("role_exists").wait(RoleName="w", WaiterConfig=fast)
        self.iam.get_waiter("policy_exists").wait(PolicyArn=arn, WaiterConfig=fast)
        with self.assertRaises(botocore.exceptions.WaiterError) as cm:
            self.iam.get_waiter("user_exists").wait(UserName="nobody",
                                                    WaiterConfig={"Delay": 1, "MaxAttempts": 1})
        self.assertIn("NoSuchEntity", str(cm.exception))

    def test_resource_layer(self):
        import boto3
        res = boto3.session.Session(aws_access_key_id="test", aws_secret_access_key="test",
                                    region_name="us-east-1").resource(
            "iam", endpoint_url=self.p.endpoint)
        u = res.create_user(UserName="res", Path="/r/")
        u.load()
        self.assertEqual(u.arn, "arn:aws:iam::%s:user/r/res" % ACCOUNT)
        self.assertRegex(u.user_id, ID_RE["AIDA"])
        g = res.create_group(GroupName="resg")
        g.add_user(UserName="res")
        self.assertEqual([x.name for x in g.users.all()], ["res"])
        self.assertEqual([x.name for x in u.groups.all()], ["resg"])
        self.assertEqual(res.CurrentUser().arn, "arn:aws:iam::%s:root" % ACCOUNT)
        g.remove_user(UserName="res")
        g.delete()
        u.delete()
        self.assertEqual(list(res.users.all()), [])

    def test_user_manages_own_keys(self):
        self.iam.create_user(UserName="self")
        self.iam.put_user_policy(UserName="self", PolicyName="self", PolicyDocument=json.dumps(
            SELF_SERVICE))
        k = self.iam.create_access_key(UserName="self")["AccessKey"]
        mine = self.p.boto3("iam", key=k["AccessKeyId"], secret=k["SecretAccessKey"])
        self.assertEqual([x["AccessKeyId"] for x in mine.list_access_keys()["AccessKeyMetadata"]],
                         [k["AccessKeyId"]])
        k2 = mine.create_access_key()["AccessKey"]
        self.assertEqual(k2["UserName"], "self")
        mine.update_access_key(AccessKeyId=k2["AccessKeyId"], Status="Inactive")
        mine.delete_access_key(AccessKeyId=k2["AccessKeyId"])
        self.assertEqual(len(self.iam.list_access_keys(UserName="self")["AccessKeyMetadata"]), 1)

    def test_group_delete_conflicts(self):
        iam = self.iam
        iam.create_user(UserName="m")
        iam.create_group(GroupName="g")
        iam.add_user_to_group(GroupName="g", UserName="m")
        with self.fails() as cm:
            iam.delete_group(GroupName="g")
        self.assertError(cm, "DeleteConflict", 409,
                         "Cannot delete entity, must remove users from group first.")
        iam.remove_user_from_group(GroupName="g", UserName="m")
        iam.put_group_policy(GroupName="g", PolicyName="x", PolicyDocument=json.dumps(DOC))
        with self.fails() as cm:
            iam.delete_group(GroupName="g")
        self.assertError(cm, "DeleteConflict", 409,
                         "Cannot delete entity, must delete policies first.")
        iam.delete_group_policy(GroupName="g", PolicyName="x")
        iam.attach_group_policy(GroupName="g",
                                PolicyArn="arn:aws:iam::aws:policy/IAMReadOnlyAccess")
        with self.fails() as cm:
            iam.delete_group(GroupName="g")
        self.assertError(cm, "DeleteConflict", 409,
                         "Cannot delete entity, must detach all policies first.")


class WireTest(IamCase):
    def test_unknown_action_and_missing_parameter(self):
        import urllib.error
        import urllib.request
        # A signed request for an action IAM does not have.
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials
        body = "Action=NoSuchThing&Version=2010-05-08"
        req = AWSRequest(method="POST", url=self.p.endpoint + "/", data=body,
                         headers={"Content-Type": "application/x-www-form-urlencoded"})
        SigV4Auth(Credentials("test", "test"), "iam", "us-east-1").add_auth(req)
        r = urllib.request.Request(self.p.endpoint + "/", data=body.encode(), method="POST",
                                   headers=dict(req.headers.items()))
        with self.assertRaises(urllib.error.HTTPError) as cm:
            urllib.request.urlopen(r, timeout=10)
        self.assertEqual(cm.exception.code, 400)
        text = cm.exception.read().decode()
        self.assertIn("<Code>InvalidAction</Code>", text)

    def test_signed_get_query(self):
        """The query protocol also takes its parameters on a signed GET."""
        import urllib.request
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials
        self.iam.create_user(UserName="viaget")
        req = AWSRequest(method="GET",
                         url=self.p.endpoint + "/?Action=ListUsers&Version=2010-05-08&MaxItems=5")
        SigV4Auth(Credentials("test", "test"), "iam", "us-east-1").add_auth(req)
        r = urllib.request.Request(req.url, headers=dict(req.headers.items()))
        with urllib.request.urlopen(r, timeout=10) as resp:
            self.assertEqual(resp.headers["Content-Type"], "text/xml")
            self.assertIn("<UserName>viaget</UserName>", resp.read().decode())

    def test_not_implemented_is_501(self):
        with self.fails() as cm:
            self.iam.list_instance_profiles()
        self.assertEqual(cm.exception.response["ResponseMetadata"]["HTTPStatusCode"], 501)
        self.assertIn("ListInstanceProfiles", cm.exception.response["Error"]["Message"])


if __name__ == "__main__":
    unittest.main()
