//! The action catalogue as plain data: every action's parameters, outputs, IAM actions and
//! planning estimate. The runbook validator reads it to reject unknown, missing or mistyped
//! parameters; `drctl iam-policy` reads it for the least-privilege policy; the planner reads
//! the estimates. Each action module's behaviour lives beside it in `src/actions/<family>.rs`;
//! this table is the single place its *interface* is declared, so the two cannot drift apart
//! without a test noticing (see `tests/` for the catalogue round trip).

/// The type a parameter value must have in a runbook's `[steps.with]` table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamType {
    /// Any string (after `${...}` interpolation).
    String,
    /// A non-negative integer.
    Integer,
    /// `true` or `false`.
    Bool,
    /// A human duration string such as `90s`, `20m`, `1h30m`.
    Duration,
    /// An array of strings.
    StringList,
    /// A table of string keys to non-negative integers (e.g. ECS service -> desired count).
    CountMap,
    /// The name of a region declared in the runbook's `[regions]` table.
    Region,
    /// One of a fixed set of strings.
    Enum(&'static [&'static str]),
}

impl ParamType {
    /// How the type reads in diagnostics and docs.
    pub fn describe(&self) -> String {
        match self {
            ParamType::String => "a string".into(),
            ParamType::Integer => "a non-negative integer".into(),
            ParamType::Bool => "true or false".into(),
            ParamType::Duration => "a duration such as \"90s\" or \"20m\"".into(),
            ParamType::StringList => "an array of strings".into(),
            ParamType::CountMap => "a table of names to non-negative integers".into(),
            ParamType::Region => "the name of a region in [regions]".into(),
            ParamType::Enum(values) => format!("one of {}", values.join(", ")),
        }
    }
}

/// One parameter of an action.
#[derive(Debug, Clone, Copy)]
pub struct ParamSpec {
    pub name: &'static str,
    pub ty: ParamType,
    pub required: bool,
    /// Default used when the parameter is absent (as the runbook would spell it).
    pub default: Option<&'static str>,
    pub doc: &'static str,
}

/// One output of an action, referable as `${steps.<id>.<name>}` by descendant steps.
#[derive(Debug, Clone, Copy)]
pub struct OutputSpec {
    pub name: &'static str,
    pub doc: &'static str,
}

/// Whether a step of this action names a region (`region = "recovery"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegionUse {
    /// The action talks to AWS in one region: the step must say which.
    Required,
    /// The action does not call a regional AWS API (probes, approvals, hooks).
    None,
}

/// Everything drctl knows about an action without running it.
#[derive(Debug, Clone, Copy)]
pub struct ActionSpec {
    pub name: &'static str,
    pub summary: &'static str,
    pub params: &'static [ParamSpec],
    pub outputs: &'static [OutputSpec],
    /// IAM actions the action may call (including its done-check and drill undo).
    pub iam: &'static [&'static str],
    /// Planning estimate of a typical run, used for the predicted duration and critical path.
    pub estimate_secs: u64,
    /// Whether the action changes AWS state (and so needs the journal, confirmation, dry-run).
    pub mutating: bool,
    /// Whether a step of this action is, by default, a recovery check whose success marks
    /// T_recovered (DESIGN.md section 2). A step can override this with `verify = true|false`.
    pub verification: bool,
    /// Whether the action yields RPO evidence for a recovered data resource.
    pub rpo_evidence: bool,
    pub region: RegionUse,
}

impl ActionSpec {
    /// The parameter called `name`, if the action has one.
    pub fn param(&self, name: &str) -> Option<&'static ParamSpec> {
        self.params.iter().find(|p| p.name == name)
    }

    /// The output called `name`, if the action has one.
    pub fn output(&self, name: &str) -> Option<&'static OutputSpec> {
        self.outputs.iter().find(|o| o.name == name)
    }
}

const fn req(name: &'static str, ty: ParamType, doc: &'static str) -> ParamSpec {
    ParamSpec {
        name,
        ty,
        required: true,
        default: None,
        doc,
    }
}

const fn opt(name: &'static str, ty: ParamType, doc: &'static str) -> ParamSpec {
    ParamSpec {
        name,
        ty,
        required: false,
        default: None,
        doc,
    }
}

const fn dflt(
    name: &'static str,
    ty: ParamType,
    default: &'static str,
    doc: &'static str,
) -> ParamSpec {
    ParamSpec {
        name,
        ty,
        required: false,
        default: Some(default),
        doc,
    }
}

const fn out(name: &'static str, doc: &'static str) -> OutputSpec {
    OutputSpec { name, doc }
}

const RECOVERY_POINT_DOC: &str =
    "which recovery point: \"latest\", \"latest-before:<RFC 3339 time>\", or a recovery point ARN";

/// The catalogue, in the order of DESIGN.md section 5.
pub static CATALOGUE: &[ActionSpec] = &[
    ActionSpec {
        name: "backup.restore_efs",
        summary: "Restore an EFS file system from an AWS Backup recovery point into a new file system, with mount targets",
        params: &[
            req(
                "vault",
                ParamType::String,
                "backup vault (in the step's region) holding the recovery points",
            ),
            req(
                "source_file_system",
                ParamType::String,
                "id of the protected file system (fs-...) whose recovery points to use",
            ),
            dflt(
                "source_region",
                ParamType::Region,
                "primary",
                "region the protected file system lives in (recovery points name it by ARN)",
            ),
            dflt(
                "recovery_point",
                ParamType::String,
                "latest",
                RECOVERY_POINT_DOC,
            ),
            opt(
                "subnets",
                ParamType::StringList,
                "subnet ids to create mount targets in (one per availability zone)",
            ),
            opt(
                "security_groups",
                ParamType::StringList,
                "security group ids for the mount targets",
            ),
            opt(
                "iam_role",
                ParamType::String,
                "role AWS Backup assumes for the restore (default: the account's AWSBackupDefaultServiceRole)",
            ),
        ],
        outputs: &[
            out("file_system_id", "id of the restored file system"),
            out("file_system_arn", "ARN of the restored file system"),
            out(
                "recovery_point_arn",
                "the recovery point restored (RPO evidence)",
            ),
            out(
                "recovery_point_created_at",
                "creation time of that recovery point, RFC 3339 (RPO evidence)",
            ),
            out("restore_job_id", "the AWS Backup restore job"),
        ],
        iam: &[
            "backup:ListRecoveryPointsByBackupVault",
            "backup:DescribeRecoveryPoint",
            "backup:GetRecoveryPointRestoreMetadata",
            "backup:StartRestoreJob",
            "backup:DescribeRestoreJob",
            "backup:ListRestoreJobs",
            "iam:PassRole",
            "sts:GetCallerIdentity",
            "elasticfilesystem:DescribeFileSystems",
            "elasticfilesystem:CreateMountTarget",
            "elasticfilesystem:DescribeMountTargets",
            "elasticfilesystem:TagResource",
            "elasticfilesystem:DeleteMountTarget",
            "elasticfilesystem:DeleteFileSystem",
        ],
        estimate_secs: 900,
        mutating: true,
        verification: false,
        rpo_evidence: true,
        region: RegionUse::Required,
    },
    ActionSpec {
        name: "backup.copy",
        summary: "Copy a recovery point to a backup vault in another region",
        params: &[
            req(
                "source_vault",
                ParamType::String,
                "vault in the step's region holding the recovery point",
            ),
            req(
                "destination_vault",
                ParamType::String,
                "vault name in the destination region",
            ),
            req(
                "destination_region",
                ParamType::Region,
                "region of the destination vault",
            ),
            opt(
                "source_file_system",
                ParamType::String,
                "pick the recovery point of this file system (fs-...) when recovery_point is latest*",
            ),
            dflt(
                "recovery_point",
                ParamType::String,
                "latest",
                RECOVERY_POINT_DOC,
            ),
            opt(
                "iam_role",
                ParamType::String,
                "role AWS Backup assumes for the copy",
            ),
        ],
        outputs: &[
            out(
                "recovery_point_arn",
                "the recovery point created in the destination vault",
            ),
            out(
                "recovery_point_created_at",
                "creation time of the copied data, RFC 3339",
            ),
            out("copy_job_id", "the AWS Backup copy job"),
        ],
        iam: &[
            "backup:ListRecoveryPointsByBackupVault",
            "backup:DescribeRecoveryPoint",
            "backup:StartCopyJob",
            "backup:DescribeCopyJob",
            "backup:ListCopyJobs",
            "backup:DeleteRecoveryPoint",
            "iam:PassRole",
            "sts:GetCallerIdentity",
        ],
        estimate_secs: 600,
        mutating: true,
        verification: false,
        rpo_evidence: true,
        region: RegionUse::Required,
    },
    ActionSpec {
        name: "backup.start",
        summary: "Take an on-demand AWS Backup of an EFS file system",
        params: &[
            req("vault", ParamType::String, "vault to back up into"),
            req("file_system", ParamType::String, "file system id (fs-...)"),
            opt(
                "iam_role",
                ParamType::String,
                "role AWS Backup assumes for the backup",
            ),
        ],
        outputs: &[
            out("recovery_point_arn", "the new recovery point"),
            out("recovery_point_created_at", "its creation time, RFC 3339"),
            out("backup_job_id", "the AWS Backup job"),
        ],
        iam: &[
            "backup:StartBackupJob",
            "backup:DescribeBackupJob",
            "backup:ListBackupJobs",
            "backup:DeleteRecoveryPoint",
            "iam:PassRole",
            "sts:GetCallerIdentity",
        ],
        estimate_secs: 600,
        mutating: true,
        verification: false,
        rpo_evidence: false,
        region: RegionUse::Required,
    },
    ActionSpec {
        name: "efs.replication_failover",
        summary: "Break EFS replication so the replica in the step's region becomes writable",
        params: &[
            req(
                "destination_file_system",
                ParamType::String,
                "the replica file system (fs-...) in the step's region",
            ),
            dflt(
                "deletion_mode",
                ParamType::Enum(&["ALL_CONFIGURATIONS", "LOCAL_CONFIGURATION_ONLY"]),
                "ALL_CONFIGURATIONS",
                "LOCAL_CONFIGURATION_ONLY when the source region is unreachable",
            ),
        ],
        outputs: &[
            out("file_system_id", "the now writable file system"),
            out(
                "last_replicated_at",
                "last replicated timestamp before the break, RFC 3339 (RPO evidence)",
            ),
        ],
        iam: &[
            "elasticfilesystem:DescribeReplicationConfigurations",
            "elasticfilesystem:DeleteReplicationConfiguration",
            "elasticfilesystem:DescribeFileSystems",
        ],
        estimate_secs: 300,
        mutating: true,
        verification: false,
        rpo_evidence: true,
        region: RegionUse::Required,
    },
    ActionSpec {
        name: "ecr.replicate",
        summary: "Ensure registry replication to the step's region and copy any image missing there, by digest",
        params: &[
            dflt(
                "source_region",
                ParamType::Region,
                "primary",
                "region the images are pushed to",
            ),
            opt(
                "repositories",
                ParamType::StringList,
                "repositories to check (default: every repository in the source region)",
            ),
            dflt(
                "ensure_rule",
                ParamType::Bool,
                "true",
                "add a registry replication rule to the step's region if missing",
            ),
        ],
        outputs: &[
            out(
                "missing_before",
                "number of images that were missing in the step's region",
            ),
            out("copied", "number of images copied"),
        ],
        iam: &[
            "ecr:DescribeRegistry",
            "ecr:PutReplicationConfiguration",
            "ecr:DescribeRepositories",
            "ecr:CreateRepository",
            "ecr:DescribeImages",
            "ecr:BatchGetImage",
            "ecr:PutImage",
            "ecr:BatchDeleteImage",
            "sts:GetCallerIdentity",
        ],
        estimate_secs: 120,
        mutating: true,
        verification: false,
        rpo_evidence: true,
        region: RegionUse::Required,
    },
    ActionSpec {
        name: "secrets.replicate",
        summary: "Replicate secrets to the step's region and wait until the replicas are in sync",
        params: &[
            req("secrets", ParamType::StringList, "secret names"),
            dflt(
                "source_region",
                ParamType::Region,
                "primary",
                "region of the primary secrets",
            ),
        ],
        outputs: &[out("replicated", "number of secrets newly replicated")],
        iam: &[
            "secretsmanager:DescribeSecret",
            "secretsmanager:ReplicateSecretToRegions",
            "secretsmanager:RemoveRegionsFromReplication",
            "secretsmanager:ListSecretVersionIds",
        ],
        estimate_secs: 60,
        mutating: true,
        verification: false,
        rpo_evidence: true,
        region: RegionUse::Required,
    },
    ActionSpec {
        name: "secrets.promote",
        summary: "Promote secret replicas in the step's region to standalone secrets",
        params: &[
            req("secrets", ParamType::StringList, "secret names"),
            dflt(
                "source_region",
                ParamType::Region,
                "primary",
                "region of the primary secrets (for version evidence)",
            ),
        ],
        outputs: &[out("promoted", "number of replicas promoted")],
        iam: &[
            "secretsmanager:DescribeSecret",
            "secretsmanager:ListSecretVersionIds",
            "secretsmanager:StopReplicationToReplica",
        ],
        estimate_secs: 30,
        mutating: true,
        verification: false,
        rpo_evidence: true,
        region: RegionUse::Required,
    },
    ActionSpec {
        name: "ecs.scale",
        summary: "Set the desired count of ECS services and wait for a steady deployment",
        params: &[
            req("cluster", ParamType::String, "cluster name"),
            req(
                "services",
                ParamType::CountMap,
                "service name = desired count",
            ),
            dflt(
                "wait",
                ParamType::Bool,
                "true",
                "wait until running = desired and the deployment is COMPLETED",
            ),
        ],
        outputs: &[out(
            "previous_counts",
            "the desired counts before the change, as JSON",
        )],
        iam: &["ecs:DescribeServices", "ecs:UpdateService"],
        estimate_secs: 300,
        mutating: true,
        verification: false,
        rpo_evidence: false,
        region: RegionUse::Required,
    },
    ActionSpec {
        name: "route53.failover",
        summary: "Send a failover record's traffic to its secondary (or back) and wait until the change is INSYNC",
        params: &[
            req(
                "zone",
                ParamType::String,
                "hosted zone name (\"example.com.\") or id",
            ),
            req(
                "record",
                ParamType::String,
                "record name, e.g. \"app.example.com.\"",
            ),
            dflt(
                "type",
                ParamType::Enum(&["A", "AAAA", "CNAME"]),
                "A",
                "record type",
            ),
            req(
                "to",
                ParamType::Enum(&["primary", "secondary"]),
                "which side should serve traffic",
            ),
            dflt(
                "method",
                ParamType::Enum(&["records", "health-check"]),
                "records",
                "records: UPSERT the PRIMARY record to the target's values; health-check: invert the primary's health check",
            ),
        ],
        outputs: &[
            out("change_id", "the Route 53 change id"),
            out(
                "record_name",
                "the record that now answers (a drill record in isolated drills)",
            ),
            out(
                "values",
                "the values the record now answers with, comma separated",
            ),
        ],
        iam: &[
            "route53:ListHostedZonesByName",
            "route53:GetHostedZone",
            "route53:ListResourceRecordSets",
            "route53:ChangeResourceRecordSets",
            "route53:GetChange",
            "route53:GetHealthCheck",
            "route53:UpdateHealthCheck",
            "route53:GetHealthCheckStatus",
        ],
        estimate_secs: 90,
        mutating: true,
        verification: true,
        rpo_evidence: false,
        region: RegionUse::Required,
    },
    ActionSpec {
        name: "http.probe",
        summary: "Probe an HTTP endpoint until it answers healthy N times in a row",
        params: &[
            req("url", ParamType::String, "URL to GET"),
            dflt(
                "expect_status",
                ParamType::Integer,
                "200",
                "HTTP status that counts as healthy",
            ),
            opt(
                "expect_body",
                ParamType::String,
                "substring the body must contain",
            ),
            dflt(
                "consecutive",
                ParamType::Integer,
                "3",
                "healthy answers in a row needed",
            ),
            dflt(
                "interval",
                ParamType::Duration,
                "2s",
                "pause between probes",
            ),
        ],
        outputs: &[
            out("status", "last HTTP status"),
            out("attempts", "number of probes made"),
        ],
        iam: &[],
        estimate_secs: 30,
        mutating: false,
        verification: true,
        rpo_evidence: false,
        region: RegionUse::None,
    },
    ActionSpec {
        name: "approve",
        summary: "A manual gate: waits for a person (interactive prompt or --approve STEP)",
        params: &[
            dflt(
                "message",
                ParamType::String,
                "Continue?",
                "what the approver is asked",
            ),
            dflt(
                "in_drill",
                ParamType::Enum(&["auto", "ask"]),
                "auto",
                "auto-approve in drills, or ask there too",
            ),
        ],
        outputs: &[out(
            "approved_by",
            "who or what approved (tty, flag, drill)",
        )],
        iam: &[],
        estimate_secs: 60,
        mutating: false,
        verification: false,
        rpo_evidence: false,
        region: RegionUse::None,
    },
    ActionSpec {
        name: "exec",
        summary: "Run a shell hook; step outputs of ancestors arrive as environment variables",
        params: &[
            req(
                "command",
                ParamType::StringList,
                "program and arguments (no shell unless you name one)",
            ),
            opt(
                "undo",
                ParamType::StringList,
                "program and arguments a drill runs to undo the hook",
            ),
        ],
        outputs: &[
            out("exit_code", "the hook's exit code"),
            out(
                "stdout",
                "the hook's standard output (trimmed, secret values redacted)",
            ),
        ],
        iam: &[],
        estimate_secs: 60,
        mutating: true,
        verification: false,
        rpo_evidence: false,
        region: RegionUse::None,
    },
    ActionSpec {
        name: "notify",
        summary: "Publish a message to an SNS topic",
        params: &[
            req(
                "topic",
                ParamType::String,
                "topic ARN or name (in the step's region)",
            ),
            req("message", ParamType::String, "message text"),
            opt("subject", ParamType::String, "subject line"),
        ],
        outputs: &[out("message_id", "the SNS message id")],
        iam: &["sns:Publish", "sns:ListTopics", "sts:GetCallerIdentity"],
        estimate_secs: 2,
        mutating: true,
        verification: false,
        rpo_evidence: false,
        region: RegionUse::Required,
    },
];

/// The action called `name`.
pub fn lookup(name: &str) -> Option<&'static ActionSpec> {
    CATALOGUE.iter().find(|a| a.name == name)
}

/// Every action name, for "did you mean" hints and docs.
pub fn names() -> impl Iterator<Item = &'static str> {
    CATALOGUE.iter().map(|a| a.name)
}
