"""IAM policy enforcement end to end, with boto3 and the aws CLI.

What a CI suite relies on: a user is allowed what its policies grant and refused the rest with
AWS's AccessDenied message (implicit and explicit denies); group, managed and AWS managed
policies apply; permissions boundaries narrow users and roles; session policies narrow role
sessions; conditions on global keys (aws:SecureTransport, aws:SourceIp, aws:username as a
variable, aws:PrincipalTag from user and session tags, aws:RequestTag / aws:TagKeys,
aws:CurrentTime, sts:ExternalId); AssumeRole against trust policies; --iam-mode audit and
off; the decision log behind x-podiam-decision-id; and the policy simulator API.

Works with boto3 1.26+ and the aws CLI v1 or v2 (2.9 on Debian): endpoints are passed
explicitly and nothing newer than those versions is used.
"""
import json
import unittest
import urllib.parse

import botocore.exceptions

from podiam_harness import Podiam

ACCT = "000000000000"


def doc(*statements, version="2012-10-17"):
    return json.dumps({"Version": version, "Statement": list(statements)})


def allow(action, resource="*", **extra):
    s = {"Effect": "Allow", "Action": action, "Resource": resource}
    s.update(extra)
    return s


def deny(action, resource="*", **extra):
    s = {"Effect": "Deny", "Action": action, "Resource": resource}
    s.update(extra)
    return s


def user_arn(name):
    return "arn:aws:iam::%s:user/%s" % (ACCT, name)


def role_arn(name):
    return "arn:aws:iam::%s:role/%s" % (ACCT, name)


def denial(caller, action, resource, why):
    msg = "User: %s is not authorized to perform: %s" % (caller, action)
    if resource:
        msg += " on resource: %s" % resource
    return msg + " " + why


def implicit(action, kind="identity-based policy"):
    return "because no %s allows the %s action" % (kind, action)


def explicit(kind="identity-based policy"):
    art = "an" if kind.startswith("identity") else "a"
    return "with an explicit deny in %s %s" % (art, kind)


class PolicyCase(unittest.TestCase):
    """A podiam in enforce mode shared by the module's tests; each test makes its own
    entities (unique names), so tests do not depend on one another."""

    p = None
    seq = 0

    @classmethod
    def setUpClass(cls):
        if PolicyCase.p is None:
            PolicyCase.p = Podiam.start()
        cls.root = PolicyCase.p.boto3("iam")
        cls.root_sts = PolicyCase.p.boto3("sts")

    @classmethod
    def name(cls, prefix):
        PolicyCase.seq += 1
        return "%s%d" % (prefix, PolicyCase.seq)

    # --- fixtures ------------------------------------------------------------------------
    def make_user(self, prefix="u", policy=None, managed=(), groups=(), tags=None,
                  boundary=None):
        """A user with an access key; returns (name, key id, secret)."""
        name = self.name(prefix)
        kw = {"UserName": name}
        if tags:
            kw["Tags"] = [{"Key": k, "Value": v} for k, v in tags.items()]
        if boundary:
            kw["PermissionsBoundary"] = boundary
        self.root.create_user(**kw)
        if policy:
            self.root.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=policy)
        for arn in managed:
            self.root.attach_user_policy(UserName=name, PolicyArn=arn)
        for g in groups:
            self.root.add_user_to_group(GroupName=g, UserName=name)
        k = self.root.create_access_key(UserName=name)["AccessKey"]
        return name, k["AccessKeyId"], k["SecretAccessKey"]

    def make_policy(self, document):
        name = self.name("pol")
        return self.root.create_policy(PolicyName=name, PolicyDocument=document)["Policy"]["Arn"]

    def make_role(self, trust, policy=None, boundary=None, max_session=None, prefix="r"):
        name = self.name(prefix)
        kw = {"RoleName": name, "AssumeRolePolicyDocument": trust}
        if boundary:
            kw["PermissionsBoundary"] = boundary
        if max_session:
            kw["MaxSessionDuration"] = max_session
        self.root.create_role(**kw)
        if policy:
            self.root.put_role_policy(RoleName=name, PolicyName="p", PolicyDocument=policy)
        return name, role_arn(name)

    def iam_as(self, key, secret, token=None, tls=False):
        return self.p.boto3("iam", key=key, secret=secret, token=token, tls=tls)

    def sts_as(self, key, secret, token=None):
        return self.p.boto3("sts", key=key, secret=secret, token=token)

    def assume(self, key, secret, arn, token=None, **kw):
        r = self.sts_as(key, secret, token).assume_role(RoleArn=arn, RoleSessionName="sess", **kw)
        c = r["Credentials"]
        return c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"]

    def denied(self, fn, message=None, code="AccessDenied", **kw):
        """Call fn(**kw), expect a ClientError with code (and exact message)."""
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            fn(**kw)
        err = cm.exception.response["Error"]
        self.assertEqual(err["Code"], code, err)
        if message is not None:
            self.assertEqual(err["Message"], message)
        return cm.exception.response

    @staticmethod
    def trust_aws(principal, action="sts:AssumeRole", **extra):
        s = {"Effect": "Allow", "Principal": {"AWS": principal}, "Action": action}
        s.update(extra)
        return json.dumps({"Version": "2012-10-17", "Statement": [s]})


class IdentityPolicies(PolicyCase):
    def test_narrow_policy_allows_and_denies(self):
        name, k, s = self.make_user(policy=doc(allow("iam:GetUser", user_arn("${aws:username}")),
                                               allow("iam:ListUsers")))
        iam = self.iam_as(k, s)
        self.assertEqual(iam.get_user(UserName=name)["User"]["UserName"], name)
        iam.list_users()
        resp = self.denied(iam.list_roles, denial(user_arn(name), "iam:ListRoles",
                                                  "arn:aws:iam::%s:role/" % ACCT,
                                                  implicit("iam:ListRoles")))
        self.assertEqual(resp["ResponseMetadata"]["HTTPStatusCode"], 403)
        self.denied(iam.create_user, denial(user_arn(name), "iam:CreateUser", user_arn("x"),
                                            implicit("iam:CreateUser")), UserName="x")
        # the CLI prints the same message
        rc, _, err = self.p.aws("iam", "list-roles", key=k, secret=s, check=False)
        self.assertNotEqual(rc, 0)
        self.assertIn("An error occurred (AccessDenied) when calling the ListRoles operation: "
                      + denial(user_arn(name), "iam:ListRoles", "arn:aws:iam::%s:role/" % ACCT,
                               implicit("iam:ListRoles")), err)
        rc, out, _ = self.p.aws("iam", "get-user", "--user-name", name, key=k, secret=s)
        self.assertEqual(out["User"]["Arn"], user_arn(name))

    def test_explicit_deny_wins(self):
        name, k, s = self.make_user(policy=doc(allow("iam:*"), deny("iam:DeleteRole")))
        iam = self.iam_as(k, s)
        role, arn = self.make_role(self.trust_aws(ACCT))
        iam.get_role(RoleName=role)
        self.denied(iam.delete_role, denial(user_arn(name), "iam:DeleteRole", arn, explicit()),
                    RoleName=role)
        rc, _, err = self.p.aws("iam", "delete-role", "--role-name", role, key=k, secret=s,
                                check=False)
        self.assertIn(explicit(), err)
        self.root.get_role(RoleName=role)  # still there

    def test_group_policies_apply(self):
        group = self.name("g")
        self.root.create_group(GroupName=group)
        self.root.put_group_policy(GroupName=group, PolicyName="list",
                                   PolicyDocument=doc(allow("iam:ListRoles")))
        name, k, s = self.make_user(groups=[group])
        iam = self.iam_as(k, s)
        iam.list_roles()
        self.root.remove_user_from_group(GroupName=group, UserName=name)
        self.denied(iam.list_roles)
        # a managed policy attached to the group applies too
        arn = self.make_policy(doc(allow("iam:ListGroups")))
        self.root.attach_group_policy(GroupName=group, PolicyArn=arn)
        self.root.add_user_to_group(GroupName=group, UserName=name)
        iam.list_groups()

    def test_managed_policies_apply(self):
        arn = self.make_policy(doc(allow("iam:ListPolicies")))
        name, k, s = self.make_user(managed=[arn])
        iam = self.iam_as(k, s)
        iam.list_policies(Scope="Local")
        self.denied(iam.list_roles)
        # a new default version changes what is allowed
        self.root.create_policy_version(PolicyArn=arn, SetAsDefault=True,
                                        PolicyDocument=doc(allow("iam:ListRoles")))
        iam.list_roles()
        self.denied(iam.list_policies)
        # an AWS managed policy
        self.root.attach_user_policy(UserName=name,
                                     PolicyArn="arn:aws:iam::aws:policy/IAMReadOnlyAccess")
        iam.list_policies()
        iam.get_user(UserName=name)
        self.denied(iam.create_group, GroupName="nope")
        self.root.detach_user_policy(UserName=name,
                                     PolicyArn="arn:aws:iam::aws:policy/IAMReadOnlyAccess")
        self.denied(iam.list_policies)


class Boundaries(PolicyCase):
    def test_boundary_narrows_a_user(self):
        bnd = self.make_policy(doc(allow("iam:List*")))
        name, k, s = self.make_user(policy=doc(allow("iam:*")), boundary=bnd)
        iam = self.iam_as(k, s)
        iam.list_roles()
        role, arn = self.make_role(self.trust_aws(ACCT))
        self.denied(iam.get_role, denial(user_arn(name), "iam:GetRole", arn,
                                         implicit("iam:GetRole", "permissions boundary")),
                    RoleName=role)
        # the boundary alone grants nothing
        self.root.delete_user_policy(UserName=name, PolicyName="p")
        self.denied(iam.list_roles, denial(user_arn(name), "iam:ListRoles",
                                           "arn:aws:iam::%s:role/" % ACCT,
                                           implicit("iam:ListRoles")))
        # removing the boundary restores the identity policy's reach
        self.root.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=doc(allow("iam:*")))
        self.root.delete_user_permissions_boundary(UserName=name)
        iam.get_role(RoleName=role)

    def test_boundary_narrows_a_role(self):
        bnd = self.make_policy(doc(allow("iam:ListRoles")))
        name, k, s = self.make_user()
        role, arn = self.make_role(self.trust_aws(user_arn(name)), policy=doc(allow("iam:*")),
                                   boundary=bnd)
        rk, rs, rt = self.assume(k, s, arn)
        iam = self.iam_as(rk, rs, rt)
        iam.list_roles()
        session = "arn:aws:sts::%s:assumed-role/%s/sess" % (ACCT, role)
        self.denied(iam.list_users, denial(session, "iam:ListUsers",
                                           "arn:aws:iam::%s:user/" % ACCT,
                                           implicit("iam:ListUsers", "permissions boundary")))


class SessionPolicies(PolicyCase):
    def setUp(self):
        self.uname, self.k, self.s = self.make_user()
        self.role, self.arn = self.make_role(self.trust_aws(user_arn(self.uname)),
                                             policy=doc(allow("iam:*")))
        self.session = "arn:aws:sts::%s:assumed-role/%s/sess" % (ACCT, self.role)

    def test_inline_session_policy_narrows(self):
        rk, rs, rt = self.assume(self.k, self.s, self.arn, Policy=doc(allow("iam:ListRoles")))
        iam = self.iam_as(rk, rs, rt)
        iam.list_roles()
        self.denied(iam.get_role, denial(self.session, "iam:GetRole", self.arn,
                                         implicit("iam:GetRole", "session policy")),
                    RoleName=self.role)
        # without a session policy the role's own policies apply in full
        rk, rs, rt = self.assume(self.k, self.s, self.arn)
        self.iam_as(rk, rs, rt).get_role(RoleName=self.role)

    def test_managed_session_policy_narrows(self):
        pol = self.make_policy(doc(allow("iam:GetRole")))
        rk, rs, rt = self.assume(self.k, self.s, self.arn, PolicyArns=[{"arn": pol}])
        iam = self.iam_as(rk, rs, rt)
        iam.get_role(RoleName=self.role)
        self.denied(iam.list_roles)
        # the CLI's --policy-arns
        rc, out, _ = self.p.aws("sts", "assume-role", "--role-arn", self.arn,
                                "--role-session-name", "sess", "--policy-arns", "arn=" + pol,
                                key=self.k, secret=self.s)
        c = out["Credentials"]
        rc, _, err = self.p.aws("iam", "list-roles", key=c["AccessKeyId"],
                                secret=c["SecretAccessKey"], token=c["SessionToken"],
                                check=False)
        self.assertNotEqual(rc, 0)  # the managed session policy does not allow it
        self.assertIn(implicit("iam:ListRoles", "session policy"), err)
        rc, out, _ = self.p.aws("iam", "get-role", "--role-name", self.role,
                                key=c["AccessKeyId"], secret=c["SecretAccessKey"],
                                token=c["SessionToken"])
        self.assertEqual(out["Role"]["Arn"], self.arn)

    def test_session_policy_cannot_widen(self):
        self.root.put_role_policy(RoleName=self.role, PolicyName="p",
                                  PolicyDocument=doc(allow("iam:ListRoles")))
        rk, rs, rt = self.assume(self.k, self.s, self.arn, Policy=doc(allow("iam:*")))
        iam = self.iam_as(rk, rs, rt)
        iam.list_roles()
        self.denied(iam.list_users, denial(self.session, "iam:ListUsers",
                                           "arn:aws:iam::%s:user/" % ACCT,
                                           implicit("iam:ListUsers")))


class Conditions(PolicyCase):
    def test_secure_transport(self):
        name, k, s = self.make_user(policy=doc(allow(
            "iam:ListRoles", Condition={"Bool": {"aws:SecureTransport": "true"}})))
        self.denied(self.iam_as(k, s).list_roles)
        self.iam_as(k, s, tls=True).list_roles()
        rc, out, _ = self.p.aws("iam", "list-roles", key=k, secret=s, tls=True)
        self.assertIn("Roles", out)
        rc, _, _ = self.p.aws("iam", "list-roles", key=k, secret=s, check=False)
        self.assertNotEqual(rc, 0)

    def test_source_ip(self):
        name, k, s = self.make_user(policy=doc(
            allow("iam:ListRoles", Condition={"IpAddress": {"aws:SourceIp": "127.0.0.0/8"}}),
            allow("iam:ListUsers", Condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}),
            deny("iam:ListGroups", Condition={"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}}),
            allow("iam:ListGroups")))
        iam = self.iam_as(k, s)
        iam.list_roles()
        self.denied(iam.list_users)
        self.denied(iam.list_groups, denial(user_arn(name), "iam:ListGroups",
                                            "arn:aws:iam::%s:group/" % ACCT, explicit()))

    def test_username_variable(self):
        name, k, s = self.make_user(policy=doc(
            allow(["iam:GetUser", "iam:ListAccessKeys"], user_arn("${aws:username}"))))
        other, _, _ = self.make_user()
        iam = self.iam_as(k, s)
        iam.get_user(UserName=name)
        iam.get_user()  # the caller itself
        iam.list_access_keys()
        self.denied(iam.get_user, denial(user_arn(name), "iam:GetUser", user_arn(other),
                                         implicit("iam:GetUser")), UserName=other)

    def test_principal_tag_from_user_tags(self):
        pol = doc(allow("iam:ListRoles",
                        Condition={"StringEquals": {"aws:PrincipalTag/team": "core"}}))
        _, k, s = self.make_user(policy=pol, tags={"team": "core"})
        self.iam_as(k, s).list_roles()
        _, k2, s2 = self.make_user(policy=pol, tags={"team": "web"})
        self.denied(self.iam_as(k2, s2).list_roles)
        _, k3, s3 = self.make_user(policy=pol)
        self.denied(self.iam_as(k3, s3).list_roles)

    def test_principal_tag_from_session_tags(self):
        name, k, s = self.make_user()
        trust = self.trust_aws(user_arn(name), ["sts:AssumeRole", "sts:TagSession"])
        role, arn = self.make_role(trust, policy=doc(allow(
            "iam:ListRoles", Condition={"StringEquals": {"aws:PrincipalTag/project": "blue"}})))
        rk, rs, rt = self.assume(k, s, arn, Tags=[{"Key": "project", "Value": "blue"}])
        self.iam_as(rk, rs, rt).list_roles()
        rk, rs, rt = self.assume(k, s, arn, Tags=[{"Key": "project", "Value": "red"}])
        self.denied(self.iam_as(rk, rs, rt).list_roles)
        rk, rs, rt = self.assume(k, s, arn)
        self.denied(self.iam_as(rk, rs, rt).list_roles)
        # the role's own tags are principal tags too; a session tag wins over them
        self.root.tag_role(RoleName=role, Tags=[{"Key": "project", "Value": "blue"}])
        rk, rs, rt = self.assume(k, s, arn)
        self.iam_as(rk, rs, rt).list_roles()
        rk, rs, rt = self.assume(k, s, arn, Tags=[{"Key": "project", "Value": "red"}])
        self.denied(self.iam_as(rk, rs, rt).list_roles)

    def test_request_tags_on_create_user_and_tag_role(self):
        name, k, s = self.make_user(policy=doc(
            allow(["iam:CreateUser", "iam:TagUser", "iam:TagRole"], Condition={
                "StringEquals": {"aws:RequestTag/team": "core"},
                "ForAllValues:StringEquals": {"aws:TagKeys": ["team"]}})))
        iam = self.iam_as(k, s)
        iam.create_user(UserName=self.name("tagged"), Tags=[{"Key": "team", "Value": "core"}])
        self.denied(iam.create_user, UserName=self.name("t"),
                    Tags=[{"Key": "team", "Value": "web"}])
        self.denied(iam.create_user, UserName=self.name("t"),
                    Tags=[{"Key": "team", "Value": "core"}, {"Key": "cost", "Value": "1"}])
        self.denied(iam.create_user, UserName=self.name("t"))
        role, arn = self.make_role(self.trust_aws(ACCT))
        iam.tag_role(RoleName=role, Tags=[{"Key": "team", "Value": "core"}])
        self.denied(iam.tag_role, denial(user_arn(name), "iam:TagRole", arn,
                                         implicit("iam:TagRole")),
                    RoleName=role, Tags=[{"Key": "owner", "Value": "x"}])
        # the CLI's shorthand carries the same tags
        self.p.aws("iam", "create-user", "--user-name", self.name("cli"), "--tags",
                   "Key=team,Value=core", key=k, secret=s)
        rc, _, err = self.p.aws("iam", "create-user", "--user-name", self.name("cli"), "--tags",
                                "Key=team,Value=ops", key=k, secret=s, check=False)
        self.assertIn(implicit("iam:CreateUser"), err)

    def test_current_time(self):
        _, k, s = self.make_user(policy=doc(
            allow("iam:ListRoles",
                  Condition={"DateLessThan": {"aws:CurrentTime": "2100-01-01T00:00:00Z"}}),
            allow("iam:ListUsers",
                  Condition={"DateLessThan": {"aws:CurrentTime": "2001-01-01T00:00:00Z"}}),
            allow("iam:ListGroups",
                  Condition={"DateGreaterThan": {"aws:CurrentTime": "2001-01-01T00:00:00Z"}})))
        iam = self.iam_as(k, s)
        iam.list_roles()
        iam.list_groups()
        self.denied(iam.list_users)

    def test_external_id(self):
        name, k, s = self.make_user(policy=doc(allow("sts:AssumeRole")))
        role, arn = self.make_role(self.trust_aws(
            ACCT, Condition={"StringEquals": {"sts:ExternalId": "s3cret"}}))
        sts = self.sts_as(k, s)
        sts.assume_role(RoleArn=arn, RoleSessionName="sess", ExternalId="s3cret")
        self.denied(sts.assume_role, RoleArn=arn, RoleSessionName="sess", ExternalId="guess")
        self.denied(sts.assume_role, RoleArn=arn, RoleSessionName="sess")
        rc, out, _ = self.p.aws("sts", "assume-role", "--role-arn", arn, "--role-session-name",
                                "sess", "--external-id", "s3cret", key=k, secret=s)
        self.assertTrue(out["Credentials"]["AccessKeyId"].startswith("ASIA"))


class AssumeRole(PolicyCase):
    def test_trust_names_the_user(self):
        # naming the user ARN in the trust policy is enough in its own account
        name, k, s = self.make_user()
        role, arn = self.make_role(self.trust_aws(user_arn(name)))
        r = self.sts_as(k, s).assume_role(RoleArn=arn, RoleSessionName="sess")
        self.assertEqual(r["AssumedRoleUser"]["Arn"],
                         "arn:aws:sts::%s:assumed-role/%s/sess" % (ACCT, role))
        # another user is not named
        other, k2, s2 = self.make_user(policy=doc(allow("sts:AssumeRole")))
        self.denied(self.sts_as(k2, s2).assume_role, RoleArn=arn, RoleSessionName="sess")

    def test_trust_names_the_account(self):
        # the account root delegates to the account's identity policies
        role, arn = self.make_role(self.trust_aws("arn:aws:iam::%s:root" % ACCT))
        name, k, s = self.make_user()
        self.denied(self.sts_as(k, s).assume_role,
                    denial(user_arn(name), "sts:AssumeRole", arn, implicit("sts:AssumeRole")),
                    RoleArn=arn, RoleSessionName="sess")
        self.root.put_user_policy(UserName=name, PolicyName="p",
                                  PolicyDocument=doc(allow("sts:AssumeRole", arn)))
        self.sts_as(k, s).assume_role(RoleArn=arn, RoleSessionName="sess")
        rc, out, _ = self.p.aws("sts", "assume-role", "--role-arn", arn, "--role-session-name",
                                "cli", key=k, secret=s)
        self.assertEqual(out["AssumedRoleUser"]["Arn"],
                         "arn:aws:sts::%s:assumed-role/%s/cli" % (ACCT, role))

    def test_service_principal_refuses_a_user(self):
        trust = json.dumps({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
            "Action": "sts:AssumeRole"}]})
        role, arn = self.make_role(trust)
        name, k, s = self.make_user(policy=doc(allow("sts:AssumeRole")))
        resp = self.denied(self.sts_as(k, s).assume_role, RoleArn=arn, RoleSessionName="sess")
        self.assertIn("is not authorized to perform: sts:AssumeRole on resource: " + arn,
                      resp["Error"]["Message"])

    def test_tag_session_is_required_for_tags(self):
        name, k, s = self.make_user()
        role, arn = self.make_role(self.trust_aws(user_arn(name)))
        sts = self.sts_as(k, s)
        self.denied(sts.assume_role, RoleArn=arn, RoleSessionName="sess",
                    Tags=[{"Key": "a", "Value": "b"}])
        sts.assume_role(RoleArn=arn, RoleSessionName="sess")
        self.root.update_assume_role_policy(
            RoleName=role, PolicyDocument=self.trust_aws(user_arn(name),
                                                         ["sts:AssumeRole", "sts:TagSession"]))
        sts.assume_role(RoleArn=arn, RoleSessionName="sess", Tags=[{"Key": "a", "Value": "b"}])

    def test_max_session_duration(self):
        name, k, s = self.make_user()
        role, arn = self.make_role(self.trust_aws(user_arn(name)), max_session=3600)
        sts = self.sts_as(k, s)
        self.denied(sts.assume_role, "The requested DurationSeconds exceeds the "
                    "MaxSessionDuration set for this role.", code="ValidationError",
                    RoleArn=arn, RoleSessionName="sess", DurationSeconds=7200)
        sts.assume_role(RoleArn=arn, RoleSessionName="sess", DurationSeconds=3600)
        self.root.update_role(RoleName=role, MaxSessionDuration=7200)
        sts.assume_role(RoleArn=arn, RoleSessionName="sess", DurationSeconds=7200)

    def test_role_chaining_is_limited_to_an_hour(self):
        name, k, s = self.make_user()
        first, first_arn = self.make_role(self.trust_aws(user_arn(name)),
                                          policy=doc(allow("sts:AssumeRole")))
        second, second_arn = self.make_role(self.trust_aws(ACCT), max_session=43200)
        rk, rs, rt = self.assume(k, s, first_arn)
        sts = self.sts_as(rk, rs, rt)
        self.denied(sts.assume_role, "The requested DurationSeconds exceeds the 1 hour session "
                    "limit for roles assumed by role chaining.", code="ValidationError",
                    RoleArn=second_arn, RoleSessionName="sess2", DurationSeconds=7200)
        r = sts.assume_role(RoleArn=second_arn, RoleSessionName="sess2", DurationSeconds=3600)
        self.assertIn("/%s/sess2" % second, r["AssumedRoleUser"]["Arn"])

    def test_root_cannot_assume(self):
        role, arn = self.make_role(self.trust_aws(ACCT))
        self.denied(self.root_sts.assume_role, "Roles may not be assumed by root accounts.",
                    RoleArn=arn, RoleSessionName="sess")
        # whatever the trust policy names
        name, _, _ = self.make_user()
        role, arn = self.make_role(self.trust_aws(user_arn(name)))
        self.denied(self.root_sts.assume_role, "Roles may not be assumed by root accounts.",
                    RoleArn=arn, RoleSessionName="sess")
        rc, _, err = self.p.aws("sts", "assume-role", "--role-arn", arn, "--role-session-name",
                                "sess", check=False)
        self.assertIn("Roles may not be assumed by root accounts.", err)


class DecisionLog(PolicyCase):
    def test_header_leads_to_the_failing_condition(self):
        name, k, s = self.make_user(policy=doc(
            {"Sid": "OnlyCore", "Effect": "Allow", "Action": "iam:ListRoles", "Resource": "*",
             "Condition": {"StringEquals": {"aws:PrincipalTag/team": "core"}}}))
        resp = self.denied(self.iam_as(k, s).list_roles)
        hid = resp["ResponseMetadata"]["HTTPHeaders"]["x-podiam-decision-id"]
        d = self.p.admin("GET", "decisions/" + hid)
        self.assertEqual(d["id"], hid)
        self.assertEqual(d["decision"], "implicitDeny")
        self.assertEqual(d["principal"], user_arn(name))
        self.assertEqual(d["operation"], "ListRoles")
        self.assertFalse(d["allowed"])
        self.assertEqual(d["message"], denial(user_arn(name), "iam:ListRoles",
                                              "arn:aws:iam::%s:role/" % ACCT,
                                              implicit("iam:ListRoles")))
        check = d["checks"][0]
        self.assertEqual(check["action"], "iam:ListRoles")
        stmts = [st for ev in check["trace"]["evaluations"] for pol in ev["policies"]
                 for st in pol["statements"]]
        failing = [st for st in stmts if st.get("sid") == "OnlyCore"]
        self.assertEqual(len(failing), 1)
        self.assertEqual(failing[0]["reason"], "condition")
        self.assertEqual(failing[0]["condition"]["key"], "aws:PrincipalTag/team")
        self.assertEqual(failing[0]["condition"]["operator"], "StringEquals")
        self.assertIn("aws:PrincipalTag/team", check["trace"]["missingContextValues"])
        # the listing filters find it
        q = urllib.parse.urlencode({"decision": "denied", "action": "iam:ListRoles",
                                    "principal": user_arn(name)})
        found = self.p.admin("GET", "decisions?" + q)["decisions"]
        self.assertIn(hid, [e["id"] for e in found])
        q = urllib.parse.urlencode({"decision": "allowed", "principal": user_arn(name)})
        self.assertNotIn(hid, [e["id"] for e in self.p.admin("GET", "decisions?" + q)["decisions"]])
        rid = resp["ResponseMetadata"]["RequestId"]
        found = self.p.admin("GET", "decisions?request_id=" + rid)["decisions"]
        self.assertEqual([e["id"] for e in found], [hid])

    def test_allowed_requests_are_logged_with_the_statement(self):
        name, k, s = self.make_user(policy=doc({"Sid": "Lists", "Effect": "Allow",
                                                "Action": "iam:List*", "Resource": "*"}))
        r = self.iam_as(k, s).list_users()
        hid = r["ResponseMetadata"]["HTTPHeaders"]["x-podiam-decision-id"]
        d = self.p.admin("GET", "decisions/" + hid)
        self.assertEqual(d["decision"], "allowed")
        self.assertTrue(d["allowed"])
        stmts = [st for ev in d["checks"][0]["trace"]["evaluations"] for pol in ev["policies"]
                 for st in pol["statements"]]
        self.assertTrue(any(st.get("sid") == "Lists" and st["matched"] for st in stmts))
        # an explicit deny names its statement too
        self.root.put_user_policy(UserName=name, PolicyName="d", PolicyDocument=doc(
            {"Sid": "NoUsers", "Effect": "Deny", "Action": "iam:ListUsers", "Resource": "*"}))
        resp = self.denied(self.iam_as(k, s).list_users)
        d = self.p.admin("GET", "decisions/"
                         + resp["ResponseMetadata"]["HTTPHeaders"]["x-podiam-decision-id"])
        self.assertEqual(d["decision"], "explicitDeny")
        stmts = [st for ev in d["checks"][0]["trace"]["evaluations"] for pol in ev["policies"]
                 for st in pol["statements"]]
        self.assertTrue(any(st.get("sid") == "NoUsers" and st["matched"]
                            and st["effect"] == "Deny" for st in stmts))


class Simulator(PolicyCase):
    CLI_DOC = ('{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"dynamodb:*",'
               '"Resource":"*","Condition":{"DateGreaterThan":{"aws:CurrentTime":'
               '"2018-08-16T12:00:00Z"}}}}')

    def test_custom_policy_boto3(self):
        r = self.root.simulate_custom_policy(
            PolicyInputList=[self.CLI_DOC], ActionNames=["dynamodb:CreateBackup", "s3:GetObject"],
            ContextEntries=[{"ContextKeyName": "aws:CurrentTime",
                             "ContextKeyValues": ["2019-04-25T11:00:00Z"],
                             "ContextKeyType": "date"}])
        first, second = r["EvaluationResults"]
        self.assertEqual(first["EvalDecision"], "allowed")
        self.assertEqual(first["EvalResourceName"], "*")
        self.assertEqual(first["MatchedStatements"], [{
            "SourcePolicyId": "PolicyInputList.1", "SourcePolicyType": "IAM Policy",
            "StartPosition": {"Line": 1, "Column": 38},
            "EndPosition": {"Line": 1, "Column": 167}}])
        self.assertEqual(first["MissingContextValues"], [])
        self.assertEqual(second["EvalDecision"], "implicitDeny")
        self.assertEqual(second["MatchedStatements"], [])
        self.assertFalse(r["IsTruncated"])
        # without the context entry, the key is reported missing
        r = self.root.simulate_custom_policy(PolicyInputList=[self.CLI_DOC],
                                             ActionNames=["dynamodb:CreateBackup"])
        self.assertEqual(r["EvaluationResults"][0]["EvalDecision"], "implicitDeny")
        self.assertEqual(r["EvaluationResults"][0]["MissingContextValues"], ["aws:CurrentTime"])

    def test_custom_policy_resources_and_resource_policy(self):
        bucket = json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": user_arn("sim")}, "Action": "s3:GetObject",
             "Resource": "arn:aws:s3:::b/*"},
            {"Effect": "Deny", "Principal": "*", "Action": "s3:GetObject",
             "Resource": "arn:aws:s3:::b/secret/*"}]})
        r = self.root.simulate_custom_policy(
            PolicyInputList=[doc(allow("s3:ListBucket"))], ActionNames=["s3:GetObject"],
            ResourceArns=["arn:aws:s3:::b/a", "arn:aws:s3:::b/secret/x"], ResourcePolicy=bucket,
            CallerArn=user_arn("sim"))
        (res,) = r["EvaluationResults"]
        self.assertEqual(res["EvalDecision"], "explicitDeny")
        self.assertEqual(res["EvalDecisionDetails"], {})
        per = {x["EvalResourceName"]: x for x in res["ResourceSpecificResults"]}
        self.assertEqual(per["arn:aws:s3:::b/a"]["EvalResourceDecision"], "allowed")
        self.assertEqual(per["arn:aws:s3:::b/a"]["MatchedStatements"][0]["SourcePolicyId"],
                         "ResourcePolicy")
        self.assertEqual(per["arn:aws:s3:::b/secret/x"]["EvalResourceDecision"], "explicitDeny")
        # cross-account: both sides must allow
        r = self.root.simulate_custom_policy(
            PolicyInputList=[doc(allow("s3:ListBucket"))], ActionNames=["s3:GetObject"],
            ResourceArns=["arn:aws:s3:::b/a"], ResourcePolicy=bucket, CallerArn=user_arn("sim"),
            ResourceOwner="arn:aws:iam::111122223333:root")
        (res,) = r["EvaluationResults"]
        self.assertEqual(res["EvalDecision"], "implicitDeny")
        self.assertEqual(res["EvalDecisionDetails"],
                         {"IAM Policy": "implicitDeny", "Resource Policy": "allowed"})
        # a caller that is not a user is refused
        self.denied(self.root.simulate_custom_policy,
                    "Invalid caller - Caller must be an IAM user in this context.",
                    code="InvalidInput", PolicyInputList=[doc(allow("s3:*"))],
                    ActionNames=["s3:GetObject"], ResourcePolicy=bucket,
                    CallerArn="arn:aws:sts::%s:assumed-role/r/s" % ACCT)
        self.denied(self.root.simulate_custom_policy, "Syntax errors in policy.",
                    code="InvalidInput", PolicyInputList=["{nope"], ActionNames=["s3:GetObject"])

    def test_custom_policy_pages(self):
        kw = dict(PolicyInputList=[doc(allow("s3:*"))],
                  ActionNames=["s3:GetObject", "s3:PutObject", "ec2:RunInstances"], MaxItems=2)
        r = self.root.simulate_custom_policy(**kw)
        self.assertTrue(r["IsTruncated"])
        self.assertEqual([x["EvalActionName"] for x in r["EvaluationResults"]],
                         ["s3:GetObject", "s3:PutObject"])
        r = self.root.simulate_custom_policy(Marker=r["Marker"], **kw)
        self.assertFalse(r["IsTruncated"])
        self.assertEqual([(x["EvalActionName"], x["EvalDecision"])
                          for x in r["EvaluationResults"]], [("ec2:RunInstances", "implicitDeny")])
        # the paginator walks the pages
        pages = self.root.get_paginator("simulate_custom_policy").paginate(
            PolicyInputList=kw["PolicyInputList"], ActionNames=kw["ActionNames"],
            PaginationConfig={"PageSize": 1})
        self.assertEqual(len([x for p in pages for x in p["EvaluationResults"]]), 3)

    def test_principal_policy_boto3(self):
        group = self.name("g")
        self.root.create_group(GroupName=group)
        self.root.put_group_policy(GroupName=group, PolicyName="grp-sqs",
                                   PolicyDocument=doc(allow("sqs:*")))
        bnd = self.make_policy(doc(allow(["s3:*", "sqs:*"])))
        pretty = json.dumps({"Version": "2012-10-17", "Statement": [
            {"Sid": "S3", "Effect": "Allow", "Action": "s3:*", "Resource": "*"},
            {"Sid": "Ec2", "Effect": "Allow", "Action": "ec2:*", "Resource": "*"}]}, indent=4)
        name, k, s = self.make_user(policy=pretty, groups=[group], boundary=bnd)
        r = self.root.simulate_principal_policy(
            PolicySourceArn=user_arn(name),
            ActionNames=["s3:GetObject", "ec2:RunInstances", "sqs:SendMessage"])
        res = {x["EvalActionName"]: x for x in r["EvaluationResults"]}
        self.assertEqual(res["s3:GetObject"]["EvalDecision"], "allowed")
        self.assertEqual(res["s3:GetObject"]["PermissionsBoundaryDecisionDetail"],
                         {"AllowedByPermissionsBoundary": True})
        m = res["s3:GetObject"]["MatchedStatements"][0]
        self.assertEqual(m["SourcePolicyId"], "p")
        # pretty-printed (4 spaces, a Sid): AWS's reader starts the first statement just past
        # '[' and ends it one column past its '}' - the CLI reference's example, 3:19 to 9:10
        self.assertEqual((m["StartPosition"], m["EndPosition"]),
                         ({"Line": 3, "Column": 19}, {"Line": 9, "Column": 10}))
        self.assertEqual(res["ec2:RunInstances"]["EvalDecision"], "implicitDeny")
        self.assertEqual(res["ec2:RunInstances"]["PermissionsBoundaryDecisionDetail"],
                         {"AllowedByPermissionsBoundary": False})
        self.assertEqual(res["sqs:SendMessage"]["MatchedStatements"][0]["SourcePolicyId"],
                         "grp-sqs")
        self.denied(self.root.simulate_principal_policy,
                    "The user with name nobody cannot be found.", code="NoSuchEntity",
                    PolicySourceArn=user_arn("nobody"), ActionNames=["s3:GetObject"])
        self.denied(self.root.simulate_principal_policy,
                    "Invalid Entity Arn: arn:aws:sts::%s:assumed-role/r/s does not clearly "
                    "define entity type and name." % ACCT, code="InvalidInput",
                    PolicySourceArn="arn:aws:sts::%s:assumed-role/r/s" % ACCT,
                    ActionNames=["s3:GetObject"])
        # simulating needs iam:SimulatePrincipalPolicy on the source
        self.denied(self.iam_as(k, s).simulate_principal_policy,
                    denial(user_arn(name), "iam:SimulatePrincipalPolicy", user_arn(name),
                           implicit("iam:SimulatePrincipalPolicy")),
                    PolicySourceArn=user_arn(name), ActionNames=["s3:GetObject"])

    def test_simulator_through_the_cli(self):
        rc, out, _ = self.p.aws(
            "iam", "simulate-custom-policy", "--policy-input-list", self.CLI_DOC,
            "--action-names", "dynamodb:CreateBackup", "--context-entries",
            "ContextKeyName='aws:CurrentTime',ContextKeyValues='2014-04-25T11:00:00Z',"
            "ContextKeyType=date")
        (res,) = out["EvaluationResults"]
        self.assertEqual((res["EvalDecision"], res["MatchedStatements"],
                          res["MissingContextValues"]), ("implicitDeny", [], []))
        rc, out, _ = self.p.aws(
            "iam", "simulate-custom-policy", "--policy-input-list", self.CLI_DOC,
            "--action-names", "dynamodb:CreateBackup", "--context-entries",
            "ContextKeyName='aws:CurrentTime',ContextKeyValues='2019-04-25T11:00:00Z',"
            "ContextKeyType=date")
        (res,) = out["EvaluationResults"]
        self.assertEqual(res["EvalDecision"], "allowed")
        self.assertEqual(res["MatchedStatements"][0]["StartPosition"], {"Line": 1, "Column": 38})
        self.assertEqual(res["MatchedStatements"][0]["EndPosition"], {"Line": 1, "Column": 167})
        role, arn = self.make_role(self.trust_aws(ACCT), policy=doc(
            allow("s3:GetObject", "arn:aws:s3:::b/${aws:username}/*")))
        rc, out, _ = self.p.aws(
            "iam", "simulate-principal-policy", "--policy-source-arn", arn, "--action-names",
            "s3:GetObject", "s3:PutObject", "--resource-arns", "arn:aws:s3:::b/ann/x",
            "--context-entries",
            "ContextKeyName=aws:username,ContextKeyValues=ann,ContextKeyType=string")
        res = {x["EvalActionName"]: x for x in out["EvaluationResults"]}
        self.assertEqual(res["s3:GetObject"]["EvalDecision"], "allowed")
        self.assertEqual(res["s3:GetObject"]["ResourceSpecificResults"][0]["EvalResourceName"],
                         "arn:aws:s3:::b/ann/x")
        self.assertEqual(res["s3:PutObject"]["EvalDecision"], "implicitDeny")
        rc, out, _ = self.p.aws(
            "iam", "simulate-principal-policy", "--policy-source-arn", arn, "--action-names",
            "s3:GetObject", "--resource-arns", "arn:aws:s3:::b/ann/x")
        res = out["EvaluationResults"][0]
        self.assertEqual(res["EvalDecision"], "implicitDeny")
        self.assertEqual(res["MissingContextValues"], ["aws:username"])


class AuditMode(unittest.TestCase):
    def test_audit_allows_and_records(self):
        p = Podiam.start("--iam-mode", "audit")
        try:
            root = p.boto3("iam")
            root.create_user(UserName="nobody")
            k = root.create_access_key(UserName="nobody")["AccessKey"]
            iam = p.boto3("iam", key=k["AccessKeyId"], secret=k["SecretAccessKey"])
            r = iam.list_roles()  # allowed although no policy grants it
            hid = r["ResponseMetadata"]["HTTPHeaders"]["x-podiam-decision-id"]
            d = p.admin("GET", "decisions/" + hid)
            self.assertEqual(d["decision"], "implicitDeny")
            self.assertEqual(d["mode"], "audit")
            self.assertTrue(d["allowed"])
            self.assertEqual(d["message"], denial(user_arn("nobody"), "iam:ListRoles",
                                                  "arn:aws:iam::%s:role/" % ACCT,
                                                  implicit("iam:ListRoles")))
            q = urllib.parse.urlencode({"decision": "denied", "principal": user_arn("nobody")})
            self.assertIn(hid, [e["id"] for e in p.admin("GET", "decisions?" + q)["decisions"]])
            rc, out, _ = p.aws("iam", "list-roles", key=k["AccessKeyId"],
                               secret=k["SecretAccessKey"])
            self.assertIn("Roles", out)
            self.assertIn("(audit: allowed)", p.logs())
        finally:
            p.stop()


class OffMode(unittest.TestCase):
    def test_off_allows_without_a_decision(self):
        p = Podiam.start("--iam-mode", "off")
        try:
            root = p.boto3("iam")
            root.create_user(UserName="nobody")
            k = root.create_access_key(UserName="nobody")["AccessKey"]
            iam = p.boto3("iam", key=k["AccessKeyId"], secret=k["SecretAccessKey"])
            r = iam.create_role(RoleName="x", AssumeRolePolicyDocument=PolicyCase.trust_aws(ACCT))
            self.assertNotIn("x-podiam-decision-id", r["ResponseMetadata"]["HTTPHeaders"])
            self.assertEqual(p.admin("GET", "decisions")["decisions"], [])
            # signatures are still checked
            bad = p.boto3("iam", key=k["AccessKeyId"], secret="wrong")
            with self.assertRaises(botocore.exceptions.ClientError) as cm:
                bad.list_roles()
            self.assertEqual(cm.exception.response["Error"]["Code"], "SignatureDoesNotMatch")
        finally:
            p.stop()


def tearDownModule():
    if PolicyCase.p is not None:
        PolicyCase.p.stop()
        PolicyCase.p = None


if __name__ == "__main__":
    unittest.main()
