"""AWS Organizations end to end, with boto3 and the aws CLI: the API (awsJson1_1), and what
its SCPs and RCPs do to requests.

A CI suite tests its guardrails with these: "our SCP keeps this OU out of us-east-1", "our RCP
keeps this bucket in the organization". Checked here: the organization, OUs, CreateAccount
(whose root keys come from podiam's admin API), policies and attachments with AWS's errors
and Reason members, boto3's paginators over podiam's tokens; SCPs at every level (a deny at an
OU, an OU without an allow), the management account exempt; an RCP that refuses the outside
world a bucket its own policy opens, and one on STS that keeps a role to the organization;
the organization condition keys; an allowed decision's trace, level by level; the
simulator's OrganizationsDecisionDetail (boto3 and the CLI); the IAM guide's example of a
policy variable with no value.

Works with boto3 1.26+ and the aws CLI v1 or v2 (2.9 on Debian): old botocore models lack the
RESOURCE_CONTROL_POLICY enum value, but botocore does not check enums, so every call below is
one those versions can make; a test that needs a newer model member says so and is skipped.
"""
import json
import os
import shutil
import subprocess
import unittest
import urllib.request

import botocore.exceptions

from podiam_harness import Podiam

MGMT = "000000000000"


def doc(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


REGION_DENY = doc({"Sid": "DenyOutsideEurope", "Effect": "Deny",
                   "NotAction": ["iam:*", "organizations:*", "sts:*"], "Resource": "*",
                   "Condition": {"StringNotEquals": {"aws:RequestedRegion": ["eu-west-1"]}}})


def org_only(org_id):
    return doc({"Sid": "EnforceOrgIdentities", "Effect": "Deny", "Principal": "*",
                "Action": "s3:*", "Resource": "*",
                "Condition": {"StringNotEqualsIfExists": {"aws:PrincipalOrgID": org_id},
                              "BoolIfExists": {"aws:PrincipalIsAWSService": "false"}}})


def error_of(fn, *args, **kw):
    """The ClientError a call raises (the test fails when it succeeds)."""
    try:
        fn(*args, **kw)
    except botocore.exceptions.ClientError as e:
        return e
    raise AssertionError("the call succeeded")


class Organizations(unittest.TestCase):
    """One podiam per test: an organization is per management account."""

    def setUp(self):
        self.p = Podiam.start()
        self.org = self.p.boto3("organizations")
        o = self.org.create_organization(FeatureSet="ALL")["Organization"]
        self.org_id = o["Id"]
        self.root = self.org.list_roots()["Roots"][0]["Id"]

    def tearDown(self):
        self.p.stop()

    def enable(self, *types):
        for t in types:
            self.org.enable_policy_type(RootId=self.root, PolicyType=t)

    def account(self, name):
        st = self.org.create_account(Email=name + "@example.com", AccountName=name)
        st = st["CreateAccountStatus"]
        self.assertEqual(st["State"], "SUCCEEDED")
        return st["AccountId"]

    def keys(self, account):
        c = self.p.admin("GET", "accounts/%s/credentials" % account)
        k = c["root_access_keys"][0]
        return k["AccessKeyId"], k["SecretAccessKey"]

    def client(self, service, account, region=None):
        key, secret = self.keys(account)
        c = self.p.boto3(service, key=key, secret=secret)
        if region:
            c = self.p.boto3(service, key=key, secret=secret, region_name=region)
        return c

    def decision(self, e):
        h = e.response["ResponseMetadata"]["HTTPHeaders"]
        return self.p.admin("GET", "decisions/" + h["x-podiam-decision-id"])

    # ---- the API ----------------------------------------------------------------------

    def test_tree_and_accounts(self):
        ou = self.org.create_organizational_unit(ParentId=self.root, Name="prod")
        ou = ou["OrganizationalUnit"]["Id"]
        self.assertTrue(ou.startswith("ou-" + self.root[2:] + "-"))
        acct = self.account("app")
        self.org.move_account(AccountId=acct, SourceParentId=self.root, DestinationParentId=ou)
        self.assertEqual(self.org.list_parents(ChildId=acct)["Parents"],
                         [{"Id": ou, "Type": "ORGANIZATIONAL_UNIT"}])
        d = self.org.describe_account(AccountId=acct)["Account"]
        self.assertEqual(d["Name"], "app")
        self.assertEqual(d["JoinedMethod"], "CREATED")
        # the new account is usable: its root key, and the role the management account uses
        iam = self.client("iam", acct)
        role = iam.get_role(RoleName="OrganizationAccountAccessRole")["Role"]
        self.assertIn("arn:aws:iam::%s:root" % MGMT,
                      json.dumps(role["AssumeRolePolicyDocument"]))
        # (the root user cannot assume roles: an administrator of the management account does)
        mgmt = self.p.boto3("iam")
        mgmt.create_user(UserName="admin")
        mgmt.attach_user_policy(UserName="admin",
                                PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
        k = mgmt.create_access_key(UserName="admin")["AccessKey"]
        sts = self.p.boto3("sts", key=k["AccessKeyId"], secret=k["SecretAccessKey"])
        creds = sts.assume_role(RoleArn=role["Arn"], RoleSessionName="admin")["Credentials"]
        as_admin = self.p.boto3("sts", key=creds["AccessKeyId"], secret=creds["SecretAccessKey"],
                                token=creds["SessionToken"])
        self.assertEqual(as_admin.get_caller_identity()["Account"], acct)
        # errors, with their Reason
        e = error_of(self.org.create_organizational_unit, ParentId="ou-zzzz-zzzzzzzz", Name="x")
        self.assertEqual(e.response["Error"]["Code"], "ParentNotFoundException")
        e = error_of(self.org.describe_account, AccountId="12")
        self.assertEqual(e.response["Error"]["Code"], "InvalidInputException")
        self.assertEqual(e.response.get("Reason"), "INVALID_PATTERN")
        e = error_of(self.org.delete_organizational_unit, OrganizationalUnitId=ou)
        self.assertEqual(e.response["Error"]["Code"], "OrganizationalUnitNotEmptyException")
        e = error_of(self.org.create_organization)
        self.assertEqual(e.response["Error"]["Code"], "AlreadyInOrganizationException")

    def test_who_may_call(self):
        """Organizations is IAM-authorized; a refusal is its own AccessDeniedException."""
        acct = self.account("app")
        member = self.client("organizations", acct)
        self.assertEqual(member.describe_organization()["Organization"]["Id"], self.org_id)
        e = error_of(member.list_accounts)  # the management account's business
        self.assertEqual(e.response["Error"]["Code"], "AccessDeniedException")
        iam = self.p.boto3("iam")
        iam.create_user(UserName="nobody")
        k = iam.create_access_key(UserName="nobody")["AccessKey"]
        nobody = self.p.boto3("organizations", key=k["AccessKeyId"],
                              secret=k["SecretAccessKey"])
        e = error_of(nobody.describe_organization)
        self.assertEqual(e.response["Error"]["Code"], "AccessDeniedException")
        self.assertEqual(e.response["ResponseMetadata"]["HTTPStatusCode"], 400)
        self.assertIn("is not authorized to perform: organizations:DescribeOrganization",
                      e.response["Error"]["Message"])

    def test_paginators(self):
        for i in range(5):
            self.account("a%d" % i)
        pages = list(self.org.get_paginator("list_accounts").paginate(
            PaginationConfig={"PageSize": 2}))
        self.assertEqual([len(p["Accounts"]) for p in pages], [2, 2, 2])
        ids = [a["Id"] for p in pages for a in p["Accounts"]]
        self.assertEqual(len(set(ids)), 6)
        e = error_of(self.org.list_accounts, NextToken="not-a-token")
        self.assertEqual(e.response.get("Reason"), "INVALID_NEXT_TOKEN")

    def test_policies_and_attachments(self):
        p = self.org.create_policy(Name="region-deny", Description="eu only",
                                   Type="SERVICE_CONTROL_POLICY", Content=REGION_DENY)
        pid = p["Policy"]["PolicySummary"]["Id"]
        self.assertEqual(p["Policy"]["Content"], REGION_DENY)
        e = error_of(self.org.attach_policy, PolicyId=pid, TargetId=self.root)
        self.assertEqual(e.response["Error"]["Code"], "PolicyTypeNotEnabledException")
        self.enable("SERVICE_CONTROL_POLICY", "RESOURCE_CONTROL_POLICY")
        self.org.attach_policy(PolicyId=pid, TargetId=self.root)
        e = error_of(self.org.attach_policy, PolicyId=pid, TargetId=self.root)
        self.assertEqual(e.response["Error"]["Code"], "DuplicatePolicyAttachmentException")
        e = error_of(self.org.attach_policy, PolicyId=pid, TargetId="ou-abcd-12345678")
        self.assertEqual(e.response["Error"]["Code"], "TargetNotFoundException")
        names = [x["Name"] for x in self.org.list_policies_for_target(
            TargetId=self.root, Filter="SERVICE_CONTROL_POLICY")["Policies"]]
        self.assertEqual(names, ["FullAWSAccess", "region-deny"])
        rcps = self.org.list_policies(Filter="RESOURCE_CONTROL_POLICY")["Policies"]
        self.assertEqual([x["Name"] for x in rcps], ["RCPFullAWSAccess"])
        # the last SCP of a target stays; RCPFullAWSAccess always does
        e = error_of(self.org.detach_policy, PolicyId="p-FullAWSAccess", TargetId=MGMT)
        self.assertEqual(e.response.get("Reason"), "MIN_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED")
        e = error_of(self.org.detach_policy, PolicyId="p-RCPFullAWSAccess", TargetId=self.root)
        self.assertEqual(e.response.get("Reason"), "NON_DETACHABLE_POLICY")
        # documents: the size quota counts every character; an RCP only denies
        big = doc({"Sid": "x" * 5100, "Effect": "Deny", "Action": "s3:*", "Resource": "*"})
        e = error_of(self.org.create_policy, Name="big", Description="",
                     Type="SERVICE_CONTROL_POLICY", Content=big)
        self.assertEqual(e.response.get("Reason"), "POLICY_CONTENT_LIMIT_EXCEEDED")
        e = error_of(self.org.create_policy, Name="allow", Description="",
                     Type="RESOURCE_CONTROL_POLICY",
                     Content=doc({"Effect": "Allow", "Principal": "*", "Action": "s3:*",
                                  "Resource": "*"}))
        self.assertEqual(e.response["Error"]["Code"], "MalformedPolicyDocumentException")
        e = error_of(self.org.delete_policy, PolicyId=pid)
        self.assertEqual(e.response["Error"]["Code"], "PolicyInUseException")
        targets = self.org.list_targets_for_policy(PolicyId=pid)["Targets"]
        self.assertEqual([(t["TargetId"], t["Type"]) for t in targets], [(self.root, "ROOT")])

    def test_update_and_disable(self):
        """UpdatePolicy changes the next decision; a refused update changes nothing;
        DisablePolicyType lifts every SCP."""
        self.enable("SERVICE_CONTROL_POLICY")
        acct = self.account("app")
        pid = self.org.create_policy(
            Name="guard", Description="", Type="SERVICE_CONTROL_POLICY",
            Content=doc({"Effect": "Deny", "Action": "iam:ListUsers", "Resource": "*"})
        )["Policy"]["PolicySummary"]["Id"]
        self.org.attach_policy(PolicyId=pid, TargetId=acct)
        iam = self.client("iam", acct)
        iam.list_roles()
        error_of(iam.list_users)
        self.org.update_policy(PolicyId=pid, Content=doc(
            {"Effect": "Deny", "Action": "iam:ListRoles", "Resource": "*"}))
        iam.list_users()
        error_of(iam.list_roles)
        big = doc({"Sid": "x" * 5100, "Effect": "Deny", "Action": "s3:*", "Resource": "*"})
        e = error_of(self.org.update_policy, PolicyId=pid, Content=big)
        self.assertEqual(e.response.get("Reason"), "POLICY_CONTENT_LIMIT_EXCEEDED")
        e = error_of(self.org.update_policy, PolicyId=pid, Content=doc(
            {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*"}))
        self.assertEqual(e.response["Error"]["Code"], "MalformedPolicyDocumentException")
        e = error_of(self.org.update_policy, PolicyId="p-FullAWSAccess", Name="mine")
        self.assertEqual(e.response.get("Reason"), "IMMUTABLE_POLICY")
        self.assertIn("iam:ListRoles",
                      self.org.describe_policy(PolicyId=pid)["Policy"]["Content"])
        error_of(iam.list_roles)
        self.org.disable_policy_type(RootId=self.root, PolicyType="SERVICE_CONTROL_POLICY")
        iam.list_roles()
        self.assertEqual(self.org.list_targets_for_policy(PolicyId=pid)["Targets"], [])
        self.assertEqual(self.org.list_roots()["Roots"][0]["PolicyTypes"], [])
        e = error_of(self.org.attach_policy, PolicyId=pid, TargetId=acct)
        self.assertEqual(e.response["Error"]["Code"], "PolicyTypeNotEnabledException")

    # ---- decisions -------------------------------------------------------------------

    def test_scp_region_deny(self):
        self.enable("SERVICE_CONTROL_POLICY")
        ou = self.org.create_organizational_unit(ParentId=self.root, Name="workloads")
        ou = ou["OrganizationalUnit"]["Id"]
        acct = self.account("app")
        self.org.move_account(AccountId=acct, SourceParentId=self.root, DestinationParentId=ou)
        pid = self.org.create_policy(Name="region-deny", Description="", Content=REGION_DENY,
                                     Type="SERVICE_CONTROL_POLICY")["Policy"]["PolicySummary"]["Id"]
        self.org.attach_policy(PolicyId=pid, TargetId=ou)
        key, secret = self.keys(acct)
        eu = self.p.boto3("s3", key=key, secret=secret, region_name="eu-west-1")
        us = self.p.boto3("s3", key=key, secret=secret, region_name="us-east-1")
        eu.create_bucket(Bucket="app-eu",
                         CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        e = error_of(us.list_buckets)
        self.assertEqual(e.response["Error"]["Code"], "AccessDenied")
        self.assertIn("with an explicit deny in a service control policy",
                      e.response["Error"]["Message"])
        d = self.decision(e)
        self.assertEqual(d["decided_by"], "service control")
        self.assertEqual(d["level"], ou)
        self.assertEqual(d["checks"][0]["organization_policy"], "region-deny (%s)" % pid)
        self.assertEqual(d["context"]["aws:principalorgid"], self.org_id)
        self.assertEqual(d["context"]["aws:principalorgpaths"],
                         "%s/%s/%s/" % (self.org_id, self.root, ou))
        # IAM is outside the deny (NotAction)
        self.p.boto3("iam", key=key, secret=secret, region_name="us-east-1").list_roles()
        # the management account is never restricted, even with the deny on the root
        self.org.attach_policy(PolicyId=pid, TargetId=self.root)
        self.p.boto3("s3", region_name="us-east-1").list_buckets()
        # an OU without any allowing SCP allows nothing
        self.org.detach_policy(PolicyId="p-FullAWSAccess", TargetId=ou)
        e = error_of(eu.list_buckets)
        self.assertIn("because no service control policy allows", e.response["Error"]["Message"])

    def test_rcp_confines_a_bucket(self):
        self.enable("SERVICE_CONTROL_POLICY", "RESOURCE_CONTROL_POLICY")
        data, app = self.account("data"), self.account("app")
        vendor = self.account("vendor")
        self.org.remove_account_from_organization(AccountId=vendor)
        pid = self.org.create_policy(Name="org-only", Description="", Content=org_only(self.org_id),
                                     Type="RESOURCE_CONTROL_POLICY")["Policy"]["PolicySummary"]["Id"]
        self.org.attach_policy(PolicyId=pid, TargetId=self.root)
        s3 = self.client("s3", data)
        s3.create_bucket(Bucket="org-data")
        s3.delete_public_access_block(Bucket="org-data")  # new buckets block public policies
        s3.put_bucket_policy(Bucket="org-data", Policy=doc({
            "Effect": "Allow", "Principal": "*", "Action": "s3:ListBucket",
            "Resource": "arn:aws:s3:::org-data"}))
        self.client("s3", app).list_objects_v2(Bucket="org-data")
        e = error_of(self.client("s3", vendor).list_objects_v2, Bucket="org-data")
        self.assertEqual(e.response["Error"]["Code"], "AccessDenied")
        d = self.decision(e)
        self.assertEqual(d["decided_by"], "resource control")
        self.assertEqual(d["level"], self.root)
        self.assertNotIn("aws:principalorgid", d["context"])
        self.assertEqual(d["context"]["aws:resourceorgid"], self.org_id)
        # anonymous: the RCP restricts the resource whoever calls
        req = urllib.request.Request(self.p.endpoint + "/org-data?list-type=2")
        with self.assertRaises(urllib.error.HTTPError) as cm:
            urllib.request.urlopen(req, timeout=10)
        self.assertEqual(cm.exception.code, 403)

    def test_rcp_confines_role_assumption(self):
        """An RCP on STS: a member's role, whose trust policy lets anyone in, is assumable
        only from inside the organization."""
        self.enable("SERVICE_CONTROL_POLICY", "RESOURCE_CONTROL_POLICY")
        data, app, vendor = self.account("data"), self.account("app"), self.account("vendor")
        self.org.remove_account_from_organization(AccountId=vendor)
        pid = self.org.create_policy(
            Name="sts-org-only", Description="", Type="RESOURCE_CONTROL_POLICY",
            Content=doc({"Effect": "Deny", "Principal": "*", "Action": "sts:AssumeRole",
                         "Resource": "*", "Condition": {"StringNotEqualsIfExists": {
                             "aws:PrincipalOrgID": self.org_id}}}))["Policy"]["PolicySummary"]["Id"]
        self.org.attach_policy(PolicyId=pid, TargetId=self.root)
        self.client("iam", data).create_role(
            RoleName="shared", AssumeRolePolicyDocument=doc(
                {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}))
        role = "arn:aws:iam::%s:role/shared" % data

        def sts_of(account):
            iam = self.client("iam", account)
            iam.create_user(UserName="u")
            iam.put_user_policy(UserName="u", PolicyName="p", PolicyDocument=doc(
                {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}))
            k = iam.create_access_key(UserName="u")["AccessKey"]
            return self.p.boto3("sts", key=k["AccessKeyId"], secret=k["SecretAccessKey"])

        r = sts_of(app).assume_role(RoleArn=role, RoleSessionName="inside")
        self.assertEqual(r["AssumedRoleUser"]["Arn"],
                         "arn:aws:sts::%s:assumed-role/shared/inside" % data)
        e = error_of(sts_of(vendor).assume_role, RoleArn=role, RoleSessionName="outside")
        self.assertEqual(e.response["Error"]["Code"], "AccessDenied")
        self.assertIn("with an explicit deny in a resource control policy",
                      e.response["Error"]["Message"])
        d = self.decision(e)
        self.assertEqual(d["decided_by"], "resource control")
        self.assertEqual(d["level"], self.root)
        self.assertEqual(d["checks"][0]["organization_policy"], "sts-org-only (%s)" % pid)

    def test_allowed_decision_names_its_levels(self):
        """An allowed decision's trace names, level by level, the SCP that allowed."""
        self.enable("SERVICE_CONTROL_POLICY")
        ou = self.org.create_organizational_unit(ParentId=self.root, Name="w")
        ou = ou["OrganizationalUnit"]["Id"]
        acct = self.account("app")
        self.org.move_account(AccountId=acct, SourceParentId=self.root, DestinationParentId=ou)
        r = self.client("iam", acct).list_roles()
        d = self.p.admin("GET", "decisions/" +
                         r["ResponseMetadata"]["HTTPHeaders"]["x-podiam-decision-id"])
        sc = d["checks"][0]["trace"]["evaluations"][0]["organizations"]["serviceControl"]
        self.assertEqual(sc["decision"], "allowed")
        self.assertEqual(sc["levels"], [
            {"level": lv, "allowedBy": "FullAWSAccess (p-FullAWSAccess)"}
            for lv in (self.root, ou, acct)])

    def test_simulator_reports_organizations(self):
        self.enable("SERVICE_CONTROL_POLICY")
        acct = self.account("app")
        pid = self.org.create_policy(Name="no-users", Description="", Type="SERVICE_CONTROL_POLICY",
                                     Content=doc({"Effect": "Deny", "Action": "iam:ListUsers",
                                                  "Resource": "*"}))["Policy"]["PolicySummary"]["Id"]
        self.org.attach_policy(PolicyId=pid, TargetId=acct)
        iam = self.client("iam", acct)
        iam.create_user(UserName="dev")
        iam.put_user_policy(UserName="dev", PolicyName="p", PolicyDocument=doc(
            {"Effect": "Allow", "Action": ["iam:ListUsers", "iam:ListRoles"], "Resource": "*"}))
        res = iam.simulate_principal_policy(
            PolicySourceArn="arn:aws:iam::%s:user/dev" % acct,
            ActionNames=["iam:ListUsers", "iam:ListRoles"])["EvaluationResults"]
        self.assertEqual(res[0]["EvalDecision"], "explicitDeny")
        self.assertEqual(res[0]["OrganizationsDecisionDetail"], {"AllowedByOrganizations": False})
        self.assertEqual(res[1]["EvalDecision"], "allowed")
        self.assertEqual(res[1]["OrganizationsDecisionDetail"], {"AllowedByOrganizations": True})

    def test_variable_without_value(self):
        """The IAM guide's example ("Policy variables with no value"): access is explicitly
        denied when aws:PrincipalTag/Team is not set."""
        iam = self.p.boto3("iam")
        pol = doc({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"},
                  {"Effect": "Deny", "Action": "s3:GetObject",
                   "Resource": "arn:aws:s3:::amzn-s3-demo-bucket/*",
                   "Condition": {"StringNotEquals": {
                       "s3:ExistingObjectTag/Team": "${aws:PrincipalTag/Team}"}}})

        def decide(*entries):
            r = iam.simulate_custom_policy(
                PolicyInputList=[pol], ActionNames=["s3:GetObject"],
                ResourceArns=["arn:aws:s3:::amzn-s3-demo-bucket/r.txt"],
                ContextEntries=[{"ContextKeyName": k, "ContextKeyValues": [v],
                                 "ContextKeyType": "string"} for k, v in entries])
            return r["EvaluationResults"][0]["EvalDecision"]

        self.assertEqual(decide(("s3:ExistingObjectTag/Team", "red"),
                                ("aws:PrincipalTag/Team", "red")), "allowed")
        self.assertEqual(decide(("s3:ExistingObjectTag/Team", "red")), "explicitDeny")
        self.assertEqual(decide(), "explicitDeny")


@unittest.skipUnless(shutil.which("aws"), "the aws CLI is not installed")
class OrganizationsCli(unittest.TestCase):
    """The same API through the aws CLI (the one on PATH, and Debian's v2 when it is there)."""

    def cli(self):
        yield "aws"
        if os.path.exists("/usr/bin/aws") and os.path.realpath(shutil.which("aws")) != \
                os.path.realpath("/usr/bin/aws"):
            yield "/usr/bin/aws"

    def test_cli(self):
        for aws in self.cli():
            with self.subTest(cli=aws):
                p = Podiam.start()
                try:
                    self.run_cli(p, aws)
                finally:
                    p.stop()

    def run_cli(self, p, aws):
        def run(*args, check=True):
            cmd = [aws, "--endpoint-url", p.endpoint, "--output", "json"] + list(args)
            r = subprocess.run(cmd, capture_output=True, text=True, env=p.client_env(),
                               timeout=120)
            if check and r.returncode:
                raise AssertionError("%s failed: %s" % (" ".join(args), r.stderr))
            return r.returncode, json.loads(r.stdout) if r.stdout.strip() else {}, r.stderr

        _, o, _ = run("organizations", "create-organization")
        org_id = o["Organization"]["Id"]
        _, o, _ = run("organizations", "list-roots")
        root = o["Roots"][0]["Id"]
        run("organizations", "enable-policy-type", "--root-id", root, "--policy-type",
            "SERVICE_CONTROL_POLICY")
        run("organizations", "enable-policy-type", "--root-id", root, "--policy-type",
            "RESOURCE_CONTROL_POLICY")
        _, o, _ = run("organizations", "create-organizational-unit", "--parent-id", root,
                      "--name", "sandbox")
        ou = o["OrganizationalUnit"]["Id"]
        _, o, _ = run("organizations", "create-policy", "--type", "RESOURCE_CONTROL_POLICY",
                      "--name", "org-only", "--description", "d", "--content", org_only(org_id))
        rcp = o["Policy"]["PolicySummary"]["Id"]
        run("organizations", "attach-policy", "--policy-id", rcp, "--target-id", ou)
        _, o, _ = run("organizations", "list-policies-for-target", "--target-id", ou,
                      "--filter", "RESOURCE_CONTROL_POLICY")
        self.assertEqual([x["Name"] for x in o["Policies"]], ["RCPFullAWSAccess", "org-only"])
        # the CLI paginates on its own (MaxResults 20 per page, podiam's tokens)
        for i in range(3):
            run("organizations", "create-account", "--email", "c%d@example.com" % i,
                "--account-name", "c%d" % i)
        _, o, _ = run("organizations", "list-accounts", "--page-size", "1")
        self.assertEqual(len(o["Accounts"]), 4)
        rc, _, err = run("organizations", "detach-policy", "--policy-id", "p-FullAWSAccess",
                         "--target-id", ou, check=False)
        self.assertNotEqual(rc, 0)
        self.assertIn("ConstraintViolationException", err)
        rc, _, err = run("organizations", "attach-policy", "--policy-id", rcp, "--target-id",
                         "111122223333", check=False)
        self.assertIn("TargetNotFoundException", err)
        # an SCP on the OU, and the simulator (aws iam) of a member account in that OU
        _, o, _ = run("organizations", "create-account", "--email", "sim@example.com",
                      "--account-name", "sim")
        acct = o["CreateAccountStatus"]["AccountId"]
        run("organizations", "move-account", "--account-id", acct, "--source-parent-id", root,
            "--destination-parent-id", ou)
        _, o, _ = run("organizations", "create-policy", "--type", "SERVICE_CONTROL_POLICY",
                      "--name", "no-users", "--description", "d", "--content",
                      doc({"Effect": "Deny", "Action": "iam:ListUsers", "Resource": "*"}))
        run("organizations", "attach-policy", "--policy-id", o["Policy"]["PolicySummary"]["Id"],
            "--target-id", ou)
        k = p.admin("GET", "accounts/%s/credentials" % acct)["root_access_keys"][0]
        env = p.client_env(key=k["AccessKeyId"], secret=k["SecretAccessKey"])

        def member(*args):
            cmd = [aws, "--endpoint-url", p.endpoint, "--output", "json"] + list(args)
            r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
            if r.returncode:
                raise AssertionError("%s failed: %s" % (" ".join(args), r.stderr))
            return json.loads(r.stdout) if r.stdout.strip() else {}

        member("iam", "create-user", "--user-name", "dev")
        member("iam", "put-user-policy", "--user-name", "dev", "--policy-name", "p",
               "--policy-document",
               doc({"Effect": "Allow", "Action": ["iam:ListUsers", "iam:ListRoles"],
                    "Resource": "*"}))
        res = member("iam", "simulate-principal-policy", "--policy-source-arn",
                     "arn:aws:iam::%s:user/dev" % acct, "--action-names", "iam:ListUsers",
                     "iam:ListRoles")["EvaluationResults"]
        self.assertEqual([(x["EvalDecision"], x["OrganizationsDecisionDetail"]) for x in res],
                         [("explicitDeny", {"AllowedByOrganizations": False}),
                          ("allowed", {"AllowedByOrganizations": True})])
        res = member("iam", "simulate-custom-policy", "--caller-arn",
                     "arn:aws:iam::%s:user/dev" % acct, "--action-names", "iam:ListUsers",
                     "--policy-input-list",
                     doc({"Effect": "Allow", "Action": "iam:*", "Resource": "*"}),
                     "--permissions-boundary-policy-input-list",
                     doc({"Effect": "Allow", "Action": "iam:List*", "Resource": "*"}))
        r0 = res["EvaluationResults"][0]
        self.assertEqual(r0["EvalDecision"], "explicitDeny")
        self.assertEqual(r0["OrganizationsDecisionDetail"], {"AllowedByOrganizations": False})
        self.assertEqual(r0["PermissionsBoundaryDecisionDetail"],
                         {"AllowedByPermissionsBoundary": True})


if __name__ == "__main__":
    unittest.main()
