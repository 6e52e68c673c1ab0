"""EKS access entries, access policies and authentication modes with real clients.

boto3 and the aws CLI drive CreateCluster's accessConfig, UpdateClusterConfig's one-way mode
steps, Create/Describe/List/Update/DeleteAccessEntry, Associate/Disassociate/
ListAssociatedAccessPolicies and ListAccessPolicies (with the clients' paginators), the
errors EKS answers (codes and messages as clients see them), IAM authorization of the calls
by an IAM user with a narrow policy (resource ARNs and eks:* condition keys), and the state
export replayed into a second podiam. The walkthrough's developer role `devs` is scoped to
namespace `apps` with AmazonEKSEditPolicy, as the issue's scenario does.

Access entries came to botocore and the aws CLI in December 2023: Debian 12's boto3 1.26 and
aws CLI 2.9 do not know them, so with those clients this module skips (saying so), and
tests/e2e/js/eks_access.test.mjs runs the same calls through the pinned JS SDK.
"""
import json
import os
import tempfile
import unittest

import boto3
import botocore

from podiam_harness import Podiam

ACCT = "000000000000"
EKS_TRUST = {"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "eks.amazonaws.com"},
    "Action": "sts:AssumeRole"}]}
ACCOUNT_TRUST = {"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::%s:root" % ACCT},
    "Action": "sts:AssumeRole"}]}
POLICY = "arn:aws:eks::aws:cluster-access-policy/"
MODE_MSG = ("The cluster's authentication mode must be set to one of [API, API_AND_CONFIG_MAP] "
            "to perform this operation.")


class EksAccessTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.p = Podiam.start()
        cls.iam = cls.p.boto3("iam")
        cls.eks = cls.p.boto3("eks")
        if not hasattr(cls.eks, "create_access_entry"):
            cls.p.stop()
            raise unittest.SkipTest(
                "boto3 %s predates EKS access entries (botocore 1.33); "
                "tests/e2e/js/eks_access.test.mjs covers them with the JS SDK" % boto3.__version__)
        cls.iam.create_role(RoleName="eks-cluster", AssumeRolePolicyDocument=json.dumps(EKS_TRUST))
        cls.cluster_role = "arn:aws:iam::%s:role/eks-cluster" % ACCT
        cls.devs = cls.iam.create_role(RoleName="devs", Path="/team/",
                                       AssumeRolePolicyDocument=json.dumps(ACCOUNT_TRUST))["Role"]
        cls.iam.create_role(RoleName="node", AssumeRolePolicyDocument=json.dumps(ACCOUNT_TRUST))
        cls.node = "arn:aws:iam::%s:role/node" % ACCT

    @classmethod
    def tearDownClass(cls):
        cls.p.stop()

    def cluster(self, name, **access):
        kw = {"name": name, "roleArn": self.cluster_role,
              "resourcesVpcConfig": {"subnetIds": ["subnet-a"]}}
        if access:
            kw["accessConfig"] = access
        self.eks.create_cluster(**kw)
        self.addCleanup(self.eks.delete_cluster, name=name)

    def error(self, fn, **kw):
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            fn(**kw)
        e = cm.exception.response
        return e["Error"]["Code"], e["Error"]["Message"], e["ResponseMetadata"]["HTTPStatusCode"]

    def test_modes(self):
        self.cluster("legacy")
        c = self.eks.describe_cluster(name="legacy")["cluster"]
        self.assertEqual(c["accessConfig"], {"authenticationMode": "CONFIG_MAP",
                                             "bootstrapClusterCreatorAdminPermissions": True})
        self.assertEqual(self.error(self.eks.list_access_entries, clusterName="legacy"),
                         ("InvalidRequestException", MODE_MSG, 400))
        self.assertEqual(self.error(self.eks.create_access_entry, clusterName="legacy",
                                    principalArn=self.devs["Arn"]),
                         ("InvalidRequestException", MODE_MSG, 400))
        code, msg, status = self.error(
            self.eks.update_cluster_config, name="legacy",
            accessConfig={"authenticationMode": "API"})
        self.assertEqual((code, msg), ("InvalidParameterException",
                                       "Unsupported authentication mode update from CONFIG_MAP "
                                       "to API"))
        u = self.eks.update_cluster_config(name="legacy",
                                           accessConfig={"authenticationMode":
                                                         "API_AND_CONFIG_MAP"})["update"]
        self.assertEqual(u["type"], "AccessConfigUpdate")
        self.assertEqual(u["params"], [{"type": "AuthenticationMode",
                                        "value": "\"API_AND_CONFIG_MAP\""}])
        # The creator (the root user here) now has an entry with the cluster admin policy.
        root = "arn:aws:iam::%s:root" % ACCT
        self.assertEqual(self.eks.list_access_entries(clusterName="legacy")["accessEntries"],
                         [root])
        pols = self.eks.list_associated_access_policies(
            clusterName="legacy", principalArn=root)["associatedAccessPolicies"]
        self.assertEqual([(p["policyArn"], p["accessScope"]["type"]) for p in pols],
                         [(POLICY + "AmazonEKSClusterAdminPolicy", "cluster")])
        self.assertEqual(self.error(self.eks.update_cluster_config, name="legacy",
                                    accessConfig={"authenticationMode": "CONFIG_MAP"})[:2],
                         ("InvalidParameterException",
                          "Unsupported authentication mode update from API_AND_CONFIG_MAP to "
                          "CONFIG_MAP"))
        self.assertEqual(self.error(self.eks.create_cluster, name="x", roleArn=self.cluster_role,
                                    resourcesVpcConfig={},
                                    accessConfig={"bootstrapClusterCreatorAdminPermissions":
                                                  False})[:2],
                         ("InvalidParameterException",
                          "bootstrapClusterCreatorAdminPermissions must be true if cluster "
                          "authentication mode is set to CONFIG_MAP"))
        # the codec checks the enum before EKS does
        code, _, status = self.error(self.eks.update_cluster_config, name="legacy",
                                     accessConfig={"authenticationMode": "NOPE"})
        self.assertEqual((code, status), ("InvalidParameterException", 400))

    def test_entries_with_boto3(self):
        self.cluster("b3", authenticationMode="API", bootstrapClusterCreatorAdminPermissions=False)
        self.assertEqual(self.eks.list_access_entries(clusterName="b3")["accessEntries"], [])
        e = self.eks.create_access_entry(clusterName="b3", principalArn=self.devs["Arn"],
                                         kubernetesGroups=["pulumi:devs"],
                                         tags={"team": "apps"})["accessEntry"]
        self.assertEqual(e["username"],
                         "arn:aws:sts::%s:assumed-role/devs/{{SessionName}}" % ACCT)
        self.assertEqual(e["type"], "STANDARD")
        self.assertEqual(e["kubernetesGroups"], ["pulumi:devs"])
        self.assertTrue(e["accessEntryArn"].startswith(
            "arn:aws:eks:us-east-1:%s:access-entry/b3/role/%s/devs/" % (ACCT, ACCT)))
        self.assertEqual(e["createdAt"], e["modifiedAt"])  # datetimes, parsed by botocore
        self.assertEqual(self.error(self.eks.create_access_entry, clusterName="b3",
                                    principalArn=self.devs["Arn"]),
                         ("ResourceInUseException",
                          "The specified access entry resource is already in use on this "
                          "cluster.", 409))
        self.assertEqual(self.error(self.eks.describe_access_entry, clusterName="b3",
                                    principalArn="arn:aws:iam::%s:role/devs" % ACCT),
                         ("ResourceNotFoundException",
                          "The specified principalArn could not be found. You can view your "
                          "available access entries with 'list-access-entries'.", 404))
        self.assertEqual(self.error(self.eks.create_access_entry, clusterName="b3",
                                    principalArn=self.node, kubernetesGroups=["system:masters"])[:2],
                         ("InvalidParameterException",
                          "The kubernetes group name system:masters is invalid, it cannot start "
                          "with system:"))
        n = self.eks.create_access_entry(clusterName="b3", principalArn=self.node,
                                         type="EC2_LINUX")["accessEntry"]
        self.assertEqual((n["username"], n["kubernetesGroups"]),
                         ("system:node:{{EC2PrivateDNSName}}", ["system:nodes"]))
        self.eks.associate_access_policy(clusterName="b3", principalArn=self.devs["Arn"],
                                         policyArn=POLICY + "AmazonEKSEditPolicy",
                                         accessScope={"type": "namespace",
                                                      "namespaces": ["apps"]})
        self.eks.associate_access_policy(clusterName="b3", principalArn=self.devs["Arn"],
                                         policyArn=POLICY + "AmazonEKSViewPolicy",
                                         accessScope={"type": "cluster"})
        got = self.eks.list_associated_access_policies(clusterName="b3",
                                                       principalArn=self.devs["Arn"])
        self.assertEqual(got["clusterName"], "b3")
        self.assertEqual(got["principalArn"], self.devs["Arn"])
        self.assertEqual([(p["policyArn"], p["accessScope"]) for p in
                          got["associatedAccessPolicies"]],
                         [(POLICY + "AmazonEKSEditPolicy",
                           {"type": "namespace", "namespaces": ["apps"]}),
                          (POLICY + "AmazonEKSViewPolicy", {"type": "cluster", "namespaces": []})])
        self.assertEqual(self.error(self.eks.associate_access_policy, clusterName="b3",
                                    principalArn=self.node, policyArn=POLICY + "AmazonEKSViewPolicy",
                                    accessScope={"type": "cluster"})[:2],
                         ("InvalidParameterException", "This operation can only be performed on "
                          "Access Entries with a type of \"STANDARD\"."))
        by_policy = self.eks.list_access_entries(clusterName="b3",
                                                 associatedPolicyArn=POLICY + "AmazonEKSEditPolicy")
        self.assertEqual(by_policy["accessEntries"], [self.devs["Arn"]])
        pages = self.eks.get_paginator("list_access_entries").paginate(
            clusterName="b3", PaginationConfig={"PageSize": 1})
        self.assertEqual([a for page in pages for a in page["accessEntries"]],
                         [self.node, self.devs["Arn"]])
        u = self.eks.update_access_entry(clusterName="b3", principalArn=self.devs["Arn"],
                                         username="pulumi:{{SessionName}}",
                                         kubernetesGroups=[])["accessEntry"]
        self.assertEqual((u["username"], u["kubernetesGroups"]), ("pulumi:{{SessionName}}", []))
        self.eks.disassociate_access_policy(clusterName="b3", principalArn=self.devs["Arn"],
                                            policyArn=POLICY + "AmazonEKSViewPolicy")
        tags = self.eks.list_tags_for_resource(resourceArn=e["accessEntryArn"])["tags"]
        self.assertEqual(tags, {"team": "apps"})
        self.eks.delete_access_entry(clusterName="b3", principalArn=self.devs["Arn"])
        self.assertEqual(self.eks.list_access_entries(clusterName="b3")["accessEntries"],
                         [self.node])
        names = [p["name"] for page in self.eks.get_paginator("list_access_policies").paginate(
            PaginationConfig={"PageSize": 7}) for p in page["accessPolicies"]]
        self.assertEqual(names, sorted(names))
        for want in ("AmazonEKSClusterAdminPolicy", "AmazonEKSAdminPolicy", "AmazonEKSEditPolicy",
                     "AmazonEKSViewPolicy", "AmazonEKSAdminViewPolicy"):
            self.assertIn(want, names)

    def test_walkthrough_with_the_cli(self):
        """The issue's scoped developer, made with the aws CLI as a user would."""
        rc, _, _ = self.p.aws("eks", "create-access-entry", "help", check=False)
        if rc != 0:
            self.skipTest("this aws CLI predates EKS access entries (2.15 / 1.31); "
                          "tests/e2e/js/eks_access.test.mjs covers them with the JS SDK")
        self.p.aws("eks", "create-cluster", "--name", "walk", "--role-arn", self.cluster_role,
                   "--resources-vpc-config", "subnetIds=subnet-a",
                   "--access-config", "authenticationMode=API_AND_CONFIG_MAP")
        self.addCleanup(self.eks.delete_cluster, name="walk")
        devs = self.devs["Arn"]
        _, out, _ = self.p.aws("eks", "create-access-entry", "--cluster-name", "walk",
                               "--principal-arn", devs, "--username", "pulumi:alice",
                               "--kubernetes-groups", "pulumi:devs")
        self.assertEqual(out["accessEntry"]["username"], "pulumi:alice")
        _, out, _ = self.p.aws("eks", "associate-access-policy", "--cluster-name", "walk",
                               "--principal-arn", devs,
                               "--policy-arn", POLICY + "AmazonEKSEditPolicy",
                               "--access-scope", "type=namespace,namespaces=apps")
        self.assertEqual(out["associatedAccessPolicy"]["accessScope"],
                         {"type": "namespace", "namespaces": ["apps"]})
        _, out, _ = self.p.aws("eks", "describe-access-entry", "--cluster-name", "walk",
                               "--principal-arn", devs)
        self.assertEqual(out["accessEntry"]["kubernetesGroups"], ["pulumi:devs"])
        _, out, _ = self.p.aws("eks", "list-access-entries", "--cluster-name", "walk")
        # sorted by principal ARN ("role/…" before "root")
        self.assertEqual(out["accessEntries"], [devs, "arn:aws:iam::%s:root" % ACCT])
        _, out, _ = self.p.aws("eks", "list-access-policies")  # the CLI follows nextToken
        self.assertGreaterEqual(len(out["accessPolicies"]), 30)
        rc, _, err = self.p.aws("eks", "associate-access-policy", "--cluster-name", "walk",
                                "--principal-arn", devs, "--policy-arn", POLICY + "Nope",
                                "--access-scope", "type=cluster", check=False)
        self.assertNotEqual(rc, 0)
        self.assertIn("(ResourceNotFoundException) when calling the AssociateAccessPolicy "
                      "operation: The specified policyArn could not be found.", err)
        rc, _, err = self.p.aws("eks", "associate-access-policy", "--cluster-name", "walk",
                                "--principal-arn", devs,
                                "--policy-arn", POLICY + "AmazonEKSViewPolicy",
                                "--access-scope", "type=namespace", check=False)
        self.assertIn("At least 1 namespace must be provided if the type is set as namespace", err)
        rc, _, err = self.p.aws("eks", "create-access-entry", "--cluster-name", "walk",
                                "--principal-arn",
                                "arn:aws:sts::%s:assumed-role/devs/alice" % ACCT, check=False)
        self.assertIn("(InvalidParameterException) when calling the CreateAccessEntry operation: "
                      "The specified principalArn is invalid: invalid principal.", err)
        self.p.aws("eks", "disassociate-access-policy", "--cluster-name", "walk",
                   "--principal-arn", devs, "--policy-arn", POLICY + "AmazonEKSEditPolicy")
        _, out, _ = self.p.aws("eks", "list-associated-access-policies", "--cluster-name", "walk",
                               "--principal-arn", devs)
        self.assertEqual(out["associatedAccessPolicies"], [])
        self.p.aws("eks", "delete-access-entry", "--cluster-name", "walk", "--principal-arn", devs)

    def test_iam_authorizes_the_calls(self):
        self.cluster("authz", authenticationMode="API", bootstrapClusterCreatorAdminPermissions=False)
        self.eks.create_access_entry(clusterName="authz", principalArn=self.devs["Arn"])
        self.eks.create_access_entry(clusterName="authz", principalArn=self.node)
        policy = {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "eks:DescribeAccessEntry",
             "Resource": "arn:aws:eks:*:*:access-entry/authz/role/*/devs/*"},
            {"Effect": "Allow", "Action": "eks:AssociateAccessPolicy", "Resource": "*",
             "Condition": {"ArnEquals": {"eks:policyArn": POLICY + "AmazonEKSViewPolicy"},
                           "StringEquals": {"eks:accessScope": "namespace"}}},
            {"Effect": "Allow", "Action": "eks:ListAccessPolicies", "Resource": "*"}]}
        self.iam.create_user(UserName="platform")
        self.iam.put_user_policy(UserName="platform", PolicyName="p",
                                 PolicyDocument=json.dumps(policy))
        k = self.iam.create_access_key(UserName="platform")["AccessKey"]
        eks = self.p.boto3("eks", key=k["AccessKeyId"], secret=k["SecretAccessKey"])
        eks.describe_access_entry(clusterName="authz", principalArn=self.devs["Arn"])
        code, msg, status = self.error(eks.describe_access_entry, clusterName="authz",
                                       principalArn=self.node)
        self.assertEqual((code, status), ("AccessDeniedException", 403))
        self.assertIn("is not authorized to perform: eks:DescribeAccessEntry on resource: "
                      "arn:aws:eks:us-east-1:%s:access-entry/authz/role/%s/node/" % (ACCT, ACCT),
                      msg)
        eks.associate_access_policy(clusterName="authz", principalArn=self.devs["Arn"],
                                    policyArn=POLICY + "AmazonEKSViewPolicy",
                                    accessScope={"type": "namespace", "namespaces": ["apps"]})
        for pol, scope in ((POLICY + "AmazonEKSClusterAdminPolicy",
                            {"type": "namespace", "namespaces": ["apps"]}),
                           (POLICY + "AmazonEKSViewPolicy", {"type": "cluster"})):
            code, _, _ = self.error(eks.associate_access_policy, clusterName="authz",
                                    principalArn=self.devs["Arn"], policyArn=pol,
                                    accessScope=scope)
            self.assertEqual(code, "AccessDeniedException")
        code, msg, _ = self.error(eks.list_access_entries, clusterName="authz")
        self.assertIn("eks:ListAccessEntries on resource: arn:aws:eks:us-east-1:%s:cluster/authz"
                      % ACCT, msg)
        eks.list_access_policies()

    def test_export_replays(self):
        self.cluster("fx", authenticationMode="API_AND_CONFIG_MAP")
        self.eks.create_access_entry(clusterName="fx", principalArn=self.devs["Arn"],
                                     username="dev:{{SessionName}}", kubernetesGroups=["devs"])
        self.eks.associate_access_policy(clusterName="fx", principalArn=self.devs["Arn"],
                                         policyArn=POLICY + "AmazonEKSEditPolicy",
                                         accessScope={"type": "namespace",
                                                      "namespaces": ["apps", "dev-*"]})
        self.eks.delete_access_entry(clusterName="fx", principalArn="arn:aws:iam::%s:root" % ACCT)
        exported = self.p.admin("GET", "state")
        fx = [c for c in exported["eks"]["clusters"] if c["name"] == "fx"][0]
        self.assertEqual(fx["access_entries"], [{
            "principal_arn": self.devs["Arn"], "username": "dev:{{SessionName}}",
            "kubernetes_groups": ["devs"],
            "access_policies": [{"policy_arn": POLICY + "AmazonEKSEditPolicy",
                                 "access_scope": {"type": "namespace",
                                                  "namespaces": ["apps", "dev-*"]}}]}])
        d = tempfile.mkdtemp(prefix="podiam-e2e-access-")
        path = os.path.join(d, "state.json")
        with open(path, "w") as f:
            json.dump(exported, f)
        second = Podiam.start("--fixtures", path)
        try:
            self.assertEqual(second.admin("GET", "state")["eks"], exported["eks"])
            eks2 = second.boto3("eks")
            # the creator's entry stays deleted: the exported list is the whole truth
            self.assertEqual(eks2.list_access_entries(clusterName="fx")["accessEntries"],
                             [self.devs["Arn"]])
        finally:
            second.stop()


if __name__ == "__main__":
    unittest.main()
