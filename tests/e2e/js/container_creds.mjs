// A pod's SDK with EKS Pod Identity: the default credential chain of the JS SDK v3 reads
// AWS_CONTAINER_CREDENTIALS_FULL_URI and AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE (its
// container/HTTP provider), fetches credentials from podiam's agent endpoint and calls STS
// GetCallerIdentity with them. Prints {"arn", "accessKeyId", "expiration"} as JSON, or
// {"error"} and exits 1. Run by tests/e2e/test_pod_identity.py with the pod's environment.
import { STSClient, GetCallerIdentityCommand } from "@aws-sdk/client-sts";
import { fromNodeProviderChain } from "@aws-sdk/credential-providers";

const endpoint = process.argv[2];
try {
  const credentials = fromNodeProviderChain();
  const c = await credentials();
  const sts = new STSClient({ endpoint, region: "us-east-1", credentials, maxAttempts: 1 });
  const who = await sts.send(new GetCallerIdentityCommand({}));
  console.log(JSON.stringify({ arn: who.Arn, accessKeyId: c.accessKeyId,
                               expiration: c.expiration?.toISOString() }));
} catch (e) {
  console.log(JSON.stringify({ error: String(e && e.message || e) }));
  process.exit(1);
}
