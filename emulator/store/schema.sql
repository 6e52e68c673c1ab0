-- podiam state schema. Sections apply in order; a database records the last one applied in
-- PRAGMA user_version. Never edit a released section: add a new one. Times are epoch ms.

-- version 1
CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;

-- version 2
-- IAM (store/iam_db.c). Every row belongs to an account. Names of users, groups, roles and
-- managed policies are unique per account without regard to case (COLLATE NOCASE) and are
-- returned as created. Customer managed policies live here; AWS managed ones are built-in
-- data (store/iam_aws_policies.c) referenced by ARN. Times are epoch ms.
CREATE TABLE iam_accounts (
  account_id TEXT PRIMARY KEY,
  created_ms INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE iam_users (
  id           INTEGER PRIMARY KEY,
  account_id   TEXT NOT NULL,
  name         TEXT NOT NULL COLLATE NOCASE,
  path         TEXT NOT NULL,
  unique_id    TEXT NOT NULL UNIQUE,
  created_ms   INTEGER NOT NULL,
  boundary_arn TEXT,
  UNIQUE (account_id, name)
);

CREATE TABLE iam_groups (
  id         INTEGER PRIMARY KEY,
  account_id TEXT NOT NULL,
  name       TEXT NOT NULL COLLATE NOCASE,
  path       TEXT NOT NULL,
  unique_id  TEXT NOT NULL UNIQUE,
  created_ms INTEGER NOT NULL,
  UNIQUE (account_id, name)
);

CREATE TABLE iam_group_members (
  group_id INTEGER NOT NULL REFERENCES iam_groups(id) ON DELETE CASCADE,
  user_id  INTEGER NOT NULL REFERENCES iam_users(id) ON DELETE CASCADE,
  PRIMARY KEY (group_id, user_id)
) WITHOUT ROWID;
CREATE INDEX iam_group_members_user ON iam_group_members(user_id, group_id);

CREATE TABLE iam_roles (
  id               INTEGER PRIMARY KEY,
  account_id       TEXT NOT NULL,
  name             TEXT NOT NULL COLLATE NOCASE,
  path             TEXT NOT NULL,
  unique_id        TEXT NOT NULL UNIQUE,
  created_ms       INTEGER NOT NULL,
  trust_policy     TEXT NOT NULL,
  description      TEXT,
  max_session      INTEGER NOT NULL DEFAULT 3600,
  boundary_arn     TEXT,
  last_used_ms     INTEGER,
  last_used_region TEXT,
  UNIQUE (account_id, name)
);

CREATE TABLE iam_policies (
  id              INTEGER PRIMARY KEY,
  account_id      TEXT NOT NULL,
  name            TEXT NOT NULL COLLATE NOCASE,
  path            TEXT NOT NULL,
  arn             TEXT NOT NULL UNIQUE,
  unique_id       TEXT NOT NULL UNIQUE,
  description     TEXT,
  created_ms      INTEGER NOT NULL,
  updated_ms      INTEGER NOT NULL,
  default_version TEXT NOT NULL,
  next_version    INTEGER NOT NULL,
  UNIQUE (account_id, name)
);

CREATE TABLE iam_policy_versions (
  policy_id  INTEGER NOT NULL REFERENCES iam_policies(id) ON DELETE CASCADE,
  version_id TEXT NOT NULL,
  num        INTEGER NOT NULL,
  document   TEXT NOT NULL,
  created_ms INTEGER NOT NULL,
  PRIMARY KEY (policy_id, version_id)
);

-- Inline policies and managed-policy attachments of users, groups and roles.
-- entity_kind: 'user', 'group' or 'role'; entity_id: the row id in that table.
CREATE TABLE iam_inline_policies (
  id          INTEGER PRIMARY KEY,
  entity_kind TEXT NOT NULL,
  entity_id   INTEGER NOT NULL,
  name        TEXT NOT NULL COLLATE NOCASE,
  document    TEXT NOT NULL,
  UNIQUE (entity_kind, entity_id, name)
);

CREATE TABLE iam_attachments (
  id          INTEGER PRIMARY KEY,
  account_id  TEXT NOT NULL,
  entity_kind TEXT NOT NULL,
  entity_id   INTEGER NOT NULL,
  policy_arn  TEXT NOT NULL,
  UNIQUE (entity_kind, entity_id, policy_arn)
);
CREATE INDEX iam_attachments_policy ON iam_attachments(account_id, policy_arn);

-- Long-term access keys; user_id NULL: the account root's key.
CREATE TABLE iam_access_keys (
  access_key_id     TEXT PRIMARY KEY,
  account_id        TEXT NOT NULL,
  user_id           INTEGER REFERENCES iam_users(id) ON DELETE CASCADE,
  secret            TEXT NOT NULL,
  status            TEXT NOT NULL,
  created_ms        INTEGER NOT NULL,
  last_used_ms      INTEGER,
  last_used_region  TEXT,
  last_used_service TEXT
);
CREATE INDEX iam_access_keys_user ON iam_access_keys(account_id, user_id);

CREATE TABLE iam_oidc_providers (
  id         INTEGER PRIMARY KEY,
  account_id TEXT NOT NULL,
  url        TEXT NOT NULL,
  created_ms INTEGER NOT NULL,
  UNIQUE (account_id, url)
);
CREATE TABLE iam_oidc_client_ids (
  id        INTEGER PRIMARY KEY,
  oidc_id   INTEGER NOT NULL REFERENCES iam_oidc_providers(id) ON DELETE CASCADE,
  client_id TEXT NOT NULL,
  UNIQUE (oidc_id, client_id)
);
CREATE TABLE iam_oidc_thumbprints (
  id         INTEGER PRIMARY KEY,
  oidc_id    INTEGER NOT NULL REFERENCES iam_oidc_providers(id) ON DELETE CASCADE,
  thumbprint TEXT NOT NULL
);

-- Tags of users, roles, managed policies and OIDC providers (keys case-insensitive).
-- entity_kind: 'user', 'role', 'policy', 'oidc'.
CREATE TABLE iam_tags (
  id          INTEGER PRIMARY KEY,
  entity_kind TEXT NOT NULL,
  entity_id   INTEGER NOT NULL,
  key         TEXT NOT NULL COLLATE NOCASE,
  value       TEXT NOT NULL,
  UNIQUE (entity_kind, entity_id, key)
);

-- The default account and its root key (LocalStack's convention: test / test).
INSERT INTO iam_accounts(account_id, created_ms) VALUES ('000000000000', 0);
INSERT INTO iam_access_keys(access_key_id, account_id, user_id, secret, status, created_ms)
  VALUES ('test', '000000000000', NULL, 'test', 'Active', 0);

-- version 3
-- S3 (store/s3_db.c). Bucket names are one namespace for every account. An object's bytes
-- are a file under the objects directory, named by `file` (relative path); a row exists
-- only once its file is complete and in place. Keys sort as UTF-8 bytes (BINARY), the order
-- S3 lists them in. meta: JSON of the content headers, user metadata and checksum;
-- tags: JSON array of {"Key","Value"} or NULL.
CREATE TABLE s3_buckets (
  name       TEXT PRIMARY KEY,
  account_id TEXT NOT NULL,
  region     TEXT NOT NULL,
  created_ms INTEGER NOT NULL,
  policy     TEXT,
  tags       TEXT
) WITHOUT ROWID;
CREATE INDEX s3_buckets_account ON s3_buckets(account_id, name);

CREATE TABLE s3_objects (
  bucket      TEXT NOT NULL REFERENCES s3_buckets(name) ON DELETE CASCADE,
  key         TEXT NOT NULL,
  file        TEXT NOT NULL,
  size        INTEGER NOT NULL,
  etag        TEXT NOT NULL,
  modified_ms INTEGER NOT NULL,
  meta        TEXT NOT NULL,
  tags        TEXT,
  PRIMARY KEY (bucket, key)
) WITHOUT ROWID;

-- Multipart uploads in progress and their parts (each part's bytes are a file too).
CREATE TABLE s3_uploads (
  upload_id    TEXT PRIMARY KEY,
  bucket       TEXT NOT NULL REFERENCES s3_buckets(name) ON DELETE CASCADE,
  key          TEXT NOT NULL,
  initiated_ms INTEGER NOT NULL,
  initiator    TEXT NOT NULL,
  meta         TEXT NOT NULL,
  tags         TEXT
) WITHOUT ROWID;
CREATE INDEX s3_uploads_key ON s3_uploads(bucket, key, initiated_ms);

CREATE TABLE s3_parts (
  upload_id   TEXT NOT NULL REFERENCES s3_uploads(upload_id) ON DELETE CASCADE,
  num         INTEGER NOT NULL,
  file        TEXT NOT NULL,
  size        INTEGER NOT NULL,
  etag        TEXT NOT NULL,
  checksum    TEXT,
  modified_ms INTEGER NOT NULL,
  PRIMARY KEY (upload_id, num)
) WITHOUT ROWID;

-- version 4
-- EKS clusters (store/eks_db.c): one row per cluster, unique by name per account and region;
-- cluster_id is the 32-hex id of its issuer URL and Kubernetes endpoint. config holds the
-- JSON blocks the API echoes (resourcesVpcConfig, kubernetesNetworkConfig, logging,
-- accessConfig); tags a JSON object. Updates (UpdateClusterConfig) are kept for
-- DescribeUpdate / ListUpdates as their JSON.
CREATE TABLE eks_clusters (
  id               INTEGER PRIMARY KEY,
  account_id       TEXT NOT NULL,
  region           TEXT NOT NULL,
  name             TEXT NOT NULL,
  cluster_id       TEXT NOT NULL UNIQUE,
  issuer           TEXT NOT NULL,
  status           TEXT NOT NULL,
  version          TEXT NOT NULL,
  platform_version TEXT NOT NULL,
  role_arn         TEXT NOT NULL,
  creator_arn      TEXT NOT NULL,
  created_ms       INTEGER NOT NULL,
  config           TEXT NOT NULL,
  tags             TEXT NOT NULL,
  UNIQUE (account_id, region, name)
);
CREATE TABLE eks_updates (
  id         TEXT PRIMARY KEY,
  cluster    INTEGER NOT NULL REFERENCES eks_clusters(id) ON DELETE CASCADE,
  created_ms INTEGER NOT NULL,
  doc        TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX eks_updates_cluster ON eks_updates(cluster, created_ms);

-- OIDC issuers podiam hosts (store/oidc_db.c): one per EKS cluster plus stand-alone ones.
-- Each has RSA keys: the one with retired_ms NULL signs; retired ones stay published until
-- the next rotation.
CREATE TABLE oidc_issuers (
  id         INTEGER PRIMARY KEY,
  url        TEXT NOT NULL UNIQUE,
  created_ms INTEGER NOT NULL
);
CREATE TABLE oidc_keys (
  id          INTEGER PRIMARY KEY,
  issuer_id   INTEGER NOT NULL REFERENCES oidc_issuers(id) ON DELETE CASCADE,
  kid         TEXT NOT NULL,
  private_pem TEXT NOT NULL,
  public_pem  TEXT NOT NULL,
  created_ms  INTEGER NOT NULL,
  retired_ms  INTEGER
);
CREATE INDEX oidc_keys_issuer ON oidc_keys(issuer_id, id);

-- version 5
-- The per-cluster Kubernetes API (store/k8s_db.c): a resourceVersion counter per cluster
-- (its row also says the cluster's built-in namespaces were made) and every object as its
-- JSON body. namespace is '' for cluster-scoped kinds (namespaces). Deleting the EKS cluster
-- deletes its Kubernetes state.
CREATE TABLE k8s_clusters (
  cluster_id       TEXT PRIMARY KEY REFERENCES eks_clusters(cluster_id) ON DELETE CASCADE,
  resource_version INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE k8s_objects (
  cluster_id       TEXT NOT NULL REFERENCES k8s_clusters(cluster_id) ON DELETE CASCADE,
  resource         TEXT NOT NULL,
  namespace        TEXT NOT NULL,
  name             TEXT NOT NULL,
  uid              TEXT NOT NULL,
  resource_version INTEGER NOT NULL,
  created_ms       INTEGER NOT NULL,
  body             TEXT NOT NULL,
  PRIMARY KEY (cluster_id, resource, namespace, name)
) WITHOUT ROWID;

-- version 6
-- Small S3 objects (store/s3_db.c): bodies up to the inline threshold are kept here, in the
-- transaction that writes their s3_objects row, instead of as files; such a row's `file` is
-- '' (s3_objects.file cannot lose its NOT NULL without rebuilding the table). A table of
-- its own rather than a column: s3_objects is WITHOUT ROWID, whose b-tree keeps whole rows
-- (up to ~1 KB of each in interior and leaf cells), so blobs there would thin out every
-- lookup and listing; here a rowid table holds the bytes and the unique index finds them.
CREATE TABLE s3_object_bodies (
  bucket TEXT NOT NULL,
  key    TEXT NOT NULL,
  body   BLOB NOT NULL,
  UNIQUE (bucket, key),
  FOREIGN KEY (bucket, key) REFERENCES s3_objects(bucket, key) ON DELETE CASCADE
);

-- version 7
-- EKS access entries (store/eks_db.c): one per IAM principal and cluster. principal_id is the
-- principal's IAM unique id when the entry was made (AROA…, AIDA…, or the account id for
-- the root): EKS keeps it, so a principal deleted and made again under the same ARN no longer
-- matches. kube_groups is a JSON array, tags a JSON object; uuid ends the entry's ARN.
-- Access policy associations: one per entry and policy; scope 'cluster' or 'namespace' with
-- the namespaces as a JSON array.
CREATE TABLE eks_access_entries (
  id            INTEGER PRIMARY KEY,
  cluster       INTEGER NOT NULL REFERENCES eks_clusters(id) ON DELETE CASCADE,
  principal_arn TEXT NOT NULL,
  principal_id  TEXT NOT NULL,
  type          TEXT NOT NULL,
  username      TEXT NOT NULL,
  kube_groups   TEXT NOT NULL,
  tags          TEXT NOT NULL,
  uuid          TEXT NOT NULL,
  created_ms    INTEGER NOT NULL,
  modified_ms   INTEGER NOT NULL,
  UNIQUE (cluster, principal_arn)
);
CREATE TABLE eks_access_policies (
  entry         INTEGER NOT NULL REFERENCES eks_access_entries(id) ON DELETE CASCADE,
  policy_arn    TEXT NOT NULL,
  scope         TEXT NOT NULL,
  namespaces    TEXT NOT NULL,
  associated_ms INTEGER NOT NULL,
  modified_ms   INTEGER NOT NULL,
  PRIMARY KEY (entry, policy_arn)
) WITHOUT ROWID;

-- version 8
-- AWS Organizations (store/org_db.c). An organization belongs to its management account; an
-- account is in at most one organization (the management account too: org_accounts holds
-- every member). The tree is the root (one per organization, its id in org_organizations),
-- OUs whose parent is the root or another OU, and accounts whose parent is the root or an
-- OU; a parent is always an existing node of the same organization, so the tree has no
-- cycles. Policies of the organization are here; the AWS managed FullAWSAccess and
-- RCPFullAWSAccess are built-in data (org_db.c) that attachments name by id.
CREATE TABLE org_organizations (
  id                 TEXT PRIMARY KEY,
  management_account TEXT NOT NULL UNIQUE,
  feature_set        TEXT NOT NULL,
  root_id            TEXT NOT NULL UNIQUE,
  created_ms         INTEGER NOT NULL
) WITHOUT ROWID;

-- Policy types enabled on the root (SERVICE_CONTROL_POLICY, RESOURCE_CONTROL_POLICY).
CREATE TABLE org_policy_types (
  org_id TEXT NOT NULL REFERENCES org_organizations(id) ON DELETE CASCADE,
  type   TEXT NOT NULL,
  PRIMARY KEY (org_id, type)
) WITHOUT ROWID;

CREATE TABLE org_ous (
  id         TEXT PRIMARY KEY,
  org_id     TEXT NOT NULL REFERENCES org_organizations(id) ON DELETE CASCADE,
  parent_id  TEXT NOT NULL,
  name       TEXT NOT NULL,
  created_ms INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX org_ous_parent ON org_ous(parent_id, name);

CREATE TABLE org_accounts (
  account_id TEXT PRIMARY KEY,
  org_id     TEXT NOT NULL REFERENCES org_organizations(id) ON DELETE CASCADE,
  parent_id  TEXT NOT NULL,
  name       TEXT NOT NULL,
  email      TEXT NOT NULL,
  status     TEXT NOT NULL,
  joined     TEXT NOT NULL,
  joined_ms  INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX org_accounts_parent ON org_accounts(org_id, parent_id);

CREATE TABLE org_policies (
  id          TEXT PRIMARY KEY,
  org_id      TEXT NOT NULL REFERENCES org_organizations(id) ON DELETE CASCADE,
  type        TEXT NOT NULL,
  name        TEXT NOT NULL,
  description TEXT NOT NULL,
  content     TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX org_policies_type ON org_policies(org_id, type, name);

-- Attachments of policies (the organization's or AWS managed) to the root, OUs and
-- accounts, in the order they were made (seq).
CREATE TABLE org_attachments (
  org_id    TEXT NOT NULL REFERENCES org_organizations(id) ON DELETE CASCADE,
  policy_id TEXT NOT NULL,
  target_id TEXT NOT NULL,
  seq       INTEGER NOT NULL,
  PRIMARY KEY (org_id, policy_id, target_id)
) WITHOUT ROWID;
CREATE INDEX org_attachments_target ON org_attachments(org_id, target_id, seq);

-- CreateAccount requests (DescribeCreateAccountStatus, ListCreateAccountStatus).
CREATE TABLE org_create_account (
  id           TEXT PRIMARY KEY,
  org_id       TEXT NOT NULL REFERENCES org_organizations(id) ON DELETE CASCADE,
  account_name TEXT NOT NULL,
  state        TEXT NOT NULL,
  account_id   TEXT,
  failure      TEXT,
  requested_ms INTEGER NOT NULL,
  completed_ms INTEGER
) WITHOUT ROWID;

-- Tags of accounts, OUs, the root and policies (keys unique per resource, order kept).
CREATE TABLE org_tags (
  org_id      TEXT NOT NULL REFERENCES org_organizations(id) ON DELETE CASCADE,
  resource_id TEXT NOT NULL,
  key         TEXT NOT NULL,
  value       TEXT NOT NULL,
  seq         INTEGER NOT NULL,
  PRIMARY KEY (resource_id, key)
) WITHOUT ROWID;

-- version 9
-- S3 versioning, ACLs, object ownership and bucket configurations (store/s3_db.c).
-- s3_objects keeps each key's current version. version_id NULL is the "null" version (what
-- a bucket that was never versioned, or is suspended, writes); marker 1 makes the row a
-- delete marker (the key reads as absent, listings skip it; file '', no body). owner: the
-- account owning the object (NULL: the bucket's owner); acl: its grants as JSON (NULL: the
-- owner's FULL_CONTROL only).
ALTER TABLE s3_objects ADD COLUMN version_id TEXT;
ALTER TABLE s3_objects ADD COLUMN marker INTEGER NOT NULL DEFAULT 0;
ALTER TABLE s3_objects ADD COLUMN owner TEXT;
ALTER TABLE s3_objects ADD COLUMN acl TEXT;
-- Noncurrent versions and delete markers of versioned buckets. Within a key a larger seq is
-- a newer version; noncurrent_ms is when a newer one replaced it (lifecycle NoncurrentDays).
-- A small object's bytes move here with it (body; NULL for a file or a marker). A rowid
-- table, so the bodies stay out of the index that lists versions.
CREATE TABLE s3_versions (
  bucket        TEXT NOT NULL REFERENCES s3_buckets(name) ON DELETE CASCADE,
  key           TEXT NOT NULL,
  seq           INTEGER NOT NULL,
  version_id    TEXT,
  file          TEXT NOT NULL,
  size          INTEGER NOT NULL,
  etag          TEXT NOT NULL,
  modified_ms   INTEGER NOT NULL,
  meta          TEXT NOT NULL,
  tags          TEXT,
  marker        INTEGER NOT NULL,
  owner         TEXT,
  acl           TEXT,
  noncurrent_ms INTEGER NOT NULL,
  body          BLOB,
  UNIQUE (bucket, key, seq)
);
CREATE INDEX s3_versions_id ON s3_versions(bucket, key, version_id);
-- A bucket's configurations (versioning, ACL, ownership controls, public access block,
-- CORS, lifecycle, website, encryption, request payment, ...), one JSON document per kind.
CREATE TABLE s3_bucket_configs (
  bucket TEXT NOT NULL REFERENCES s3_buckets(name) ON DELETE CASCADE,
  kind   TEXT NOT NULL,
  doc    TEXT NOT NULL,
  PRIMARY KEY (bucket, kind)
) WITHOUT ROWID;
-- Multipart uploads completed in the last week: S3 answers a repeated
-- CompleteMultipartUpload of the same parts with the same result. result: the JSON answer.
CREATE TABLE s3_completed_uploads (
  upload_id    TEXT PRIMARY KEY,
  bucket       TEXT NOT NULL REFERENCES s3_buckets(name) ON DELETE CASCADE,
  key          TEXT NOT NULL,
  etag         TEXT NOT NULL,
  result       TEXT NOT NULL,
  completed_ms INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX s3_completed_uploads_time ON s3_completed_uploads(completed_ms);

-- version 10
-- EKS Pod Identity associations (store/eks_db.c): one per cluster, namespace and service
-- account. assoc_id is the a-… id that ends its ARN; tags a JSON object; policy the inline
-- session policy text or NULL; target_role_arn and external_id for role chaining.
CREATE TABLE eks_pod_identity (
  id                   INTEGER PRIMARY KEY,
  cluster              INTEGER NOT NULL REFERENCES eks_clusters(id) ON DELETE CASCADE,
  assoc_id             TEXT NOT NULL UNIQUE,
  namespace            TEXT NOT NULL,
  service_account      TEXT NOT NULL,
  role_arn             TEXT NOT NULL,
  target_role_arn      TEXT,
  external_id          TEXT,
  disable_session_tags INTEGER NOT NULL DEFAULT 0,
  policy               TEXT,
  tags                 TEXT NOT NULL,
  created_ms           INTEGER NOT NULL,
  modified_ms          INTEGER NOT NULL,
  UNIQUE (cluster, namespace, service_account)
);

-- Outbound identity federation (store/sts_db.c): per account, once enabled, the issuer of
-- its GetWebIdentityToken tokens (https://UUID.tokens.sts.global.api.aws) and its two
-- signing keys (RSA for RS256, P-384 for ES384) as PKCS#8 PEM; enabled 0 after a disable.
CREATE TABLE sts_outbound (
  account_id TEXT PRIMARY KEY,
  issuer     TEXT NOT NULL UNIQUE,
  enabled    INTEGER NOT NULL,
  rsa_pem    TEXT NOT NULL,
  ec_pem     TEXT NOT NULL,
  created_ms INTEGER NOT NULL
) WITHOUT ROWID;
