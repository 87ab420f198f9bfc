//! The command surface as clap derive types: every command, flag and help text. Parsing only;
//! `settings.rs` resolves the global flags and each command's file under `cli/` acts.

use std::path::PathBuf;

use chrono::{DateTime, FixedOffset};
use clap::{Args, Parser, Subcommand, ValueEnum};

use super::exit::UsageError;

const ABOUT: &str =
    "Disaster-recovery orchestration: codified runbooks, timed drills, measured RTO/RPO";

const LONG_ABOUT: &str = "\
drctl runs disaster-recovery runbooks for an ECS/EFS/ECR/Secrets Manager/Route 53 stack.

A runbook (runbooks/*.toml) lists steps — restore an EFS from backup, replicate images and
secrets, scale services, move DNS, probe the app — linked by `after` into a graph. A drill
(drills/*.toml) rehearses a runbook, times it and compares the achieved RTO and RPO with the
targets. Check files with `validate`, see what would happen with `plan`, then run them with
`failover` or `drill`.

Data (JSON, plans, schemas) goes to stdout; messages, progress and diagnostics go to stderr.";

const AFTER_HELP: &str = "\
Examples:
  drctl validate runbooks/*.toml drills/*.toml     check every file, report all errors
  drctl plan runbooks/region-failover.toml         waves, critical path, predicted duration
  drctl failover runbooks/region-failover.toml --dry-run
  drctl drill drills/monthly.toml                  rehearse, time and report
  drctl status                                     what is running now

Exit codes: 0 ok, 1 runtime failure, 2 invalid input, 3 target missed, 4 refused,
5 interrupted (resumable). See docs/exit-codes.md.";

/// drctl's command line.
#[derive(Debug, Parser)]
#[command(
    name = "drctl",
    version,
    about = ABOUT,
    long_about = LONG_ABOUT,
    after_help = AFTER_HELP,
    propagate_version = true,
    arg_required_else_help = true,
    max_term_width = 100
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Flags every command accepts.
#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// AWS named profile to use (default: the SDK's chain: AWS_PROFILE, then `default`)
    #[arg(long, global = true, value_name = "NAME")]
    pub profile: Option<String>,

    /// Default AWS region for calls not tied to a runbook region (state store, identity);
    /// steps always use their runbook's [regions]
    #[arg(long, global = true, value_name = "REGION")]
    pub region: Option<String>,

    /// Send every AWS call to this endpoint instead of AWS (e.g. the sandbox at
    /// http://127.0.0.1:4566)
    #[arg(
        long,
        global = true,
        env = "AWS_ENDPOINT_URL",
        hide_env_values = true,
        value_name = "URL"
    )]
    pub endpoint_url: Option<String>,

    /// Output format on stdout; which formats a command accepts is listed in its help
    #[arg(long, global = true, value_enum, value_name = "FORMAT")]
    pub output: Option<OutputFormat>,

    /// Where run journals, locks and history are kept
    #[arg(
        long,
        global = true,
        env = "DRCTL_STATE_DIR",
        default_value = ".drctl",
        value_name = "DIR"
    )]
    pub state_dir: PathBuf,

    /// The state store, instead of --state-dir: dynamodb://TABLE?region=REGION shares the
    /// lock, journals and history between people and scheduled runs (create it with
    /// `drctl state init`; keep it in the recovery region); a directory means --state-dir
    #[arg(
        long,
        global = true,
        env = "DRCTL_STATE",
        value_name = "URL",
        value_parser = parse_state_url
    )]
    pub state: Option<crate::store::StateUrl>,

    /// Configuration file with shared defaults for --state, --notify, --region, --profile and
    /// --emf (flags and their variables win); default: ./drctl.toml when it exists
    #[arg(long, global = true, env = "DRCTL_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// drill, failover and resume: publish a message to this SNS topic when a run starts and
    /// when it finishes (met, MISSED, FAILED or interrupted); check: when the RPO exposure is
    /// over target. A failed publish only warns
    #[arg(
        long,
        global = true,
        env = "DRCTL_NOTIFY_TOPIC",
        value_name = "TOPIC_ARN",
        value_parser = parse_topic_arn
    )]
    pub notify: Option<String>,

    /// drill, failover and resume: after the run, print one CloudWatch Embedded Metric Format
    /// line (AchievedRTO, AchievedRPO, DrillResult) on stderr; check: one line per resource
    /// (RPOExposure)
    #[arg(
        long,
        global = true,
        env = "DRCTL_EMF",
        value_parser = clap::builder::BoolishValueParser::new()
    )]
    pub emf: bool,

    /// More detail on stderr (-v info, -vv debug, -vvv trace)
    #[arg(short, long, global = true, action = clap::ArgAction::Count, conflicts_with = "quiet")]
    pub verbose: u8,

    /// Only errors on stderr
    #[arg(short, long, global = true)]
    pub quiet: bool,
}

/// `--output` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Readable text
    Human,
    /// One JSON document
    Json,
    /// One JSON object per line (event streams)
    Jsonl,
    /// Graphviz (plan only)
    Dot,
}

impl OutputFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            OutputFormat::Human => "human",
            OutputFormat::Json => "json",
            OutputFormat::Jsonl => "jsonl",
            OutputFormat::Dot => "dot",
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check runbook and drill files and report every problem
    #[command(
        long_about = "Check runbook and drill files and report every problem at once: syntax, unknown keys, \
unknown actions and parameters, dependency cycles, undefined ${vars.*} and ${steps.*} references, \
bad durations and schedules. A drill's runbook is checked too. Nothing is sent to AWS.\n\n\
Formats: human (diagnostics on stderr), json (one array of diagnostics on stdout), jsonl (one per line).",
        after_help = "Examples:\n  drctl validate runbooks/*.toml drills/*.toml\n  drctl validate --output json runbooks/region-failover.toml | jq '.[].code'\n\n\
Exit codes: 0 every file is valid, 2 at least one is not."
    )]
    Validate(ValidateArgs),

    /// Show how a runbook would run: waves, critical path, predicted duration
    #[command(
        long_about = "Show how a runbook (or a drill's runbook) would run: the waves of steps that run together, \
the critical path, the predicted duration against the RTO target, and which steps change AWS state. \
Durations are the actions' planning estimates, not timeouts. Nothing is sent to AWS.\n\n\
Formats: human, json (for scripts), dot (Graphviz; the critical path in red).",
        after_help = "Examples:\n  drctl plan runbooks/region-failover.toml\n  drctl plan drills/quarterly.toml --output json | jq .critical_path\n  drctl plan runbooks/region-failover.toml --output dot | dot -Tsvg > plan.svg\n\n\
Exit codes: 0 planned, 2 the file is invalid."
    )]
    Plan(PlanArgs),

    /// Rehearse a runbook as a drill: run it, time it, verify, clean up, report
    #[command(
        long_about = "Run a drill: declare the simulated disaster (T0), run the drill's runbook in its isolation \
mode, measure the achieved RTO and RPO against the targets, undo what an isolated drill created, and write a \
report. A live drill really fails production over and asks for confirmation unless --yes.\n\n\
Formats: human (progress on stderr), json (the report), jsonl (events as they happen).",
        after_help = "Examples:\n  drctl drill drills/monthly.toml\n  drctl drill drills/annual.toml --yes --output jsonl\n\n\
Exit codes: 0 targets met, 1 the drill failed to run, 2 invalid drill, 3 a target was missed, \
4 refused (lock held, not confirmed), 5 interrupted (resume with `drctl resume RUN_ID`)."
    )]
    Drill(DrillArgs),

    /// Run a runbook for real: the incident is happening now
    #[command(
        long_about = "Run a runbook against production. Steps run in dependency order, independent steps in \
parallel (--max-parallel); every mutating call is journaled first, so a killed run resumes where it stopped. \
Asks for confirmation unless --yes; refuses without a terminal and without --yes. Approval steps wait for a \
person, or for --approve STEP.",
        after_help = "Examples:\n  drctl failover runbooks/region-failover.toml --dry-run\n  \
drctl failover runbooks/region-failover.toml --incident-start 2026-03-01T03:12:00Z\n  \
drctl failover runbooks/region-failover.toml --yes --approve approve-cutover\n  \
drctl failover runbooks/efs-restore.toml --var recovery_point=latest-before:2026-03-01T02:00:00Z\n\n\
Exit codes: 0 recovered, 1 a step failed (resumable), 2 invalid runbook or arguments, 4 refused, 5 interrupted."
    )]
    Failover(FailoverArgs),

    /// Continue an interrupted or failed run from its journal
    #[command(
        after_help = "Examples:\n  drctl runs\n  drctl resume 20260301T031200Z-region-failover-3f2a\n\n\
Exit codes: as for the command that started the run."
    )]
    Resume(ResumeArgs),

    /// Show the progress of a run (default: the active one)
    #[command(
        after_help = "Examples:\n  drctl status\n  drctl status 20260301T031200Z-region-failover-3f2a --output json"
    )]
    Status(StatusArgs),

    /// List active and recent runs in the state directory
    #[command(after_help = "Examples:\n  drctl runs\n  drctl runs --output json")]
    Runs(RunsArgs),

    /// Past drills and failovers with their achieved RTO and RPO
    #[command(
        after_help = "Examples:\n  drctl history\n  drctl history --drill monthly --limit 12 --output json"
    )]
    History(HistoryArgs),

    /// Render the report of a finished run
    #[command(
        after_help = "Examples:\n  drctl report 20260301T031200Z-region-failover-3f2a\n  \
drctl report 20260301T031200Z-region-failover-3f2a --format html --out report.html"
    )]
    Report(ReportArgs),

    /// Measure RPO exposure now: what data a disaster at this moment would lose
    #[command(
        long_about = "Measure the RPO you would get if disaster struck now — age of the newest usable recovery \
point in the recovery region, replication lag, unreplicated images and secret versions — per resource, \
against the targets (a drill's target overrides its runbook's), with the evidence and a plain statement of \
what the setup can give (hourly EFS backups cannot give a 5-minute RPO). Read-only. Meant to run every few \
minutes from a schedule. See docs/check.md.\n\n\
Formats: human (a table on stdout), json (one document on stdout).",
        after_help = "Examples:\n  drctl check\n  drctl check drills/quarterly.toml --output json\n\n\
Exit codes: 0 within target, 3 exposure over target (even if something else could not be measured), \
1 could not measure a resource (AWS error), 2 invalid files (nothing is measured)."
    )]
    Check(CheckArgs),

    /// Run drills and check on a schedule with EventBridge Scheduler
    #[command(
        long_about = "Keep EventBridge Scheduler schedules in step with the drill files: one schedule \
`drctl-drill-<name>` per drill that has a `schedule`, invoking the drctl Lambda function with \
{\"command\":\"drill\",\"drill\":\"<name>\"}, and `drctl-check` running `check` every few minutes. \
`plan` shows the difference, `apply` makes it, `remove` deletes drctl's schedules. Only schedules \
whose names start with `drctl-` in the group are touched. Schedules are made in the global --region \
(or AWS_REGION): use the recovery region, so that they still fire when the primary region is down. \
See docs/schedule.md.",
        after_help = "Examples:\n  drctl --region us-west-2 schedule plan --function-arn $FN --role-arn $ROLE\n  \
drctl --region us-west-2 schedule apply --yes --check-every 'rate(10 minutes)'\n  \
drctl --region us-west-2 schedule remove --yes\n\n\
Exit codes: 0 done (or nothing to do), 1 an AWS call failed, 2 invalid drill files or arguments, \
4 not confirmed (no terminal and no --yes)."
    )]
    Schedule(ScheduleArgs),

    /// Remove what drills left behind (drill file systems, records, copies)
    #[command(
        long_about = "Remove what a drill run left behind: first the undo the drill itself would have done, \
for every step whose undo failed or never ran (from the run's journal), then what AWS shows carrying the \
run's id: EFS file systems tagged drctl:run-id in the runbook's regions, and the run's drctl-drill-* records \
in the runbook's hosted zones. Nothing else is touched, so there is no confirmation; what was removed is \
printed. The one exception: a live drill whose failback is pending is failed back only with --yes (or a yes \
at the terminal), since that moves production. A run whose process is still alive is refused. See \
docs/cleanup.md.\n\n\
Formats: human (a list on stdout), json (one document on stdout).",
        after_help = "Examples:\n  drctl cleanup 20260301T060000Z-9c1d2e --dry-run\n  drctl cleanup --all-stale\n  \
drctl cleanup 20260301T140000Z-77ab01 --yes     fail back a live drill\n\n\
Exit codes: 0 nothing left behind, 1 something could not be removed (run it again), 2 no such drill run, \
4 the run is still running, or a failback was not confirmed."
    )]
    Cleanup(CleanupArgs),

    /// Manage the shared state store (the DynamoDB table of --state)
    #[command(
        subcommand,
        after_help = "Examples:\n  drctl --state 'dynamodb://drctl-state?region=us-west-2' state init"
    )]
    State(StateCommand),

    /// Print the least-privilege IAM policy a runbook needs
    #[command(
        long_about = "Print the least-privilege IAM policy (JSON) a runbook needs: the actions its steps call, \
scoped to the ARNs the runbook names. Given --state dynamodb://... and --notify, it also covers the state \
table and the topic: the whole role of a scheduled (Lambda) run.",
        after_help = "Examples:\n  drctl iam-policy runbooks/region-failover.toml > policy.json\n  \
drctl --state 'dynamodb://drctl-state?region=us-west-2' --notify arn:aws:sns:us-west-2:123456789012:dr \\\n    iam-policy drills/monthly.toml"
    )]
    IamPolicy(IamPolicyArgs),

    /// Print the JSON Schema of runbook or drill files (for editors)
    #[command(
        after_help = "Examples:\n  drctl schema > runbook.schema.json\n  drctl schema drill > drill.schema.json"
    )]
    Schema(SchemaArgs),

    /// Print a shell completion script
    #[command(
        after_help = "Examples:\n  drctl completions bash > /etc/bash_completion.d/drctl\n  \
drctl completions zsh > \"${fpath[1]}/_drctl\"\n  drctl completions fish > ~/.config/fish/completions/drctl.fish"
    )]
    Completions(CompletionsArgs),

    /// Serve AWS Lambda invocations (what the binary does when the Lambda runtime starts it)
    #[command(hide = true)]
    Lambda(LambdaArgs),
}

impl Command {
    /// The command's name as typed.
    pub fn name(&self) -> &'static str {
        match self {
            Command::Validate(_) => "validate",
            Command::Plan(_) => "plan",
            Command::Drill(_) => "drill",
            Command::Failover(_) => "failover",
            Command::Resume(_) => "resume",
            Command::Status(_) => "status",
            Command::Runs(_) => "runs",
            Command::History(_) => "history",
            Command::Report(_) => "report",
            Command::Check(_) => "check",
            Command::Schedule(_) => "schedule",
            Command::Cleanup(_) => "cleanup",
            Command::State(_) => "state",
            Command::IamPolicy(_) => "iam-policy",
            Command::Schema(_) => "schema",
            Command::Completions(_) => "completions",
            Command::Lambda(_) => "lambda",
        }
    }
}

/// `drctl state ...`.
#[derive(Debug, Subcommand)]
pub enum StateCommand {
    /// Create the DynamoDB table named by --state (on-demand capacity, point-in-time
    /// recovery) and wait until it is active; an existing table with the right keys is kept
    #[command(
        after_help = "Examples:\n  drctl --state 'dynamodb://drctl-state?region=us-west-2' state init\n\n\
Exit codes: 0 the table is ready (created or already there), 1 AWS refused, 2 --state names no DynamoDB table."
    )]
    Init,
}

fn parse_state_url(text: &str) -> Result<crate::store::StateUrl, crate::store::StateUrlError> {
    crate::store::StateUrl::parse(text)
}

/// `NAME=VALUE`, for `--var`.
fn parse_var(text: &str) -> Result<(String, String), UsageError> {
    match text.split_once('=') {
        Some((name, value)) if !name.is_empty() => Ok((name.to_owned(), value.to_owned())),
        _ => Err(UsageError(format!("expected NAME=VALUE, got `{text}`"))),
    }
}

/// An SNS topic ARN: its region says where to publish. Empty means none, so that a blank
/// `DRCTL_NOTIFY_TOPIC` in a scheduler's environment turns notifications off rather than
/// breaking every command.
fn parse_topic_arn(text: &str) -> Result<String, UsageError> {
    match crate::runner::topic_region(text) {
        Some(_) => Ok(text.to_owned()),
        None if text.is_empty() => Ok(String::new()),
        None => Err(UsageError(format!(
            "expected an SNS topic ARN such as arn:aws:sns:us-west-2:123456789012:dr-alerts, got `{text}`"
        ))),
    }
}

fn parse_time(text: &str) -> Result<DateTime<FixedOffset>, UsageError> {
    DateTime::parse_from_rfc3339(text).map_err(|e| {
        UsageError(format!(
            "expected an RFC 3339 time such as 2026-03-01T03:12:00Z ({e})"
        ))
    })
}

/// Variable overrides shared by the commands that load runbooks.
#[derive(Debug, Clone, Args)]
pub struct VarArgs {
    /// Override a runbook variable ([vars]); repeatable; the runbook must declare it
    #[arg(long = "var", value_name = "NAME=VALUE", value_parser = parse_var)]
    pub vars: Vec<(String, String)>,
}

impl VarArgs {
    /// The overrides as a map (a later `--var` for the same name wins).
    pub fn map(&self) -> std::collections::BTreeMap<String, String> {
        self.vars.iter().cloned().collect()
    }
}

#[derive(Debug, Clone, Args)]
pub struct ValidateArgs {
    /// Runbook and drill files (a drill has a `runbook` key; its runbook is checked too)
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    #[command(flatten)]
    pub vars: VarArgs,
}

#[derive(Debug, Clone, Args)]
pub struct PlanArgs {
    /// A runbook, or a drill (its runbook is planned with the drill's variables)
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    #[command(flatten)]
    pub vars: VarArgs,
}

#[derive(Debug, Clone, Args)]
pub struct DrillArgs {
    /// The drill file (drills/*.toml)
    #[arg(value_name = "DRILL_FILE")]
    pub drill_file: PathBuf,
    /// Do not ask for confirmation (needed for live drills without a terminal)
    #[arg(long)]
    pub yes: bool,
    /// Print the plan and every mutating call the drill would make, and stop
    #[arg(long)]
    pub dry_run: bool,
    /// Most steps to run at the same time
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..))]
    pub max_parallel: u16,
    #[command(flatten)]
    pub vars: VarArgs,
    /// Take the runbook's lock even if another run holds it (dangerous: two runs could act
    /// at once; prefer `drctl resume` of the holder)
    #[arg(long)]
    pub force_unlock: bool,
    /// Approve an `approve` step (or `failback`, for live drills) in advance (repeatable)
    #[arg(long, value_name = "STEP")]
    pub approve: Vec<String>,
}

#[derive(Debug, Clone, Args)]
pub struct FailoverArgs {
    /// The runbook to run (runbooks/*.toml)
    #[arg(value_name = "RUNBOOK")]
    pub runbook: PathBuf,
    /// Do not ask for confirmation (required when there is no terminal)
    #[arg(long)]
    pub yes: bool,
    /// Print the plan and every mutating call it would make, and stop
    #[arg(long)]
    pub dry_run: bool,
    /// When the incident started (T0 for the achieved RTO), e.g. 2026-03-01T03:12:00Z;
    /// default: now
    #[arg(long, value_name = "RFC3339", value_parser = parse_time)]
    pub incident_start: Option<DateTime<FixedOffset>>,
    /// Run only these steps (comma-separated or repeated); their dependencies must have
    /// succeeded in an earlier run or be listed too
    #[arg(long, value_name = "STEP", value_delimiter = ',')]
    pub only: Vec<String>,
    /// Skip these steps (comma-separated or repeated)
    #[arg(long, value_name = "STEP", value_delimiter = ',')]
    pub skip: Vec<String>,
    /// Approve this `approve` step in advance (repeatable)
    #[arg(long, value_name = "STEP")]
    pub approve: Vec<String>,
    /// Most steps to run at the same time
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..))]
    pub max_parallel: u16,
    #[command(flatten)]
    pub vars: VarArgs,
    /// Take the runbook's lock even if another run holds it (dangerous: two runs could act
    /// at once; prefer `drctl resume` of the holder)
    #[arg(long)]
    pub force_unlock: bool,
}

#[derive(Debug, Clone, Args)]
pub struct ResumeArgs {
    /// The run to continue (see `drctl runs`)
    #[arg(value_name = "RUN_ID")]
    pub run_id: String,
    /// Do not ask for confirmation
    #[arg(long)]
    pub yes: bool,
    /// Approve this `approve` step in advance (repeatable)
    #[arg(long, value_name = "STEP")]
    pub approve: Vec<String>,
    /// Take the runbook's lock even if another run holds it (dangerous: two runs could act
    /// at once; prefer `drctl resume` of the holder)
    #[arg(long)]
    pub force_unlock: bool,
}

#[derive(Debug, Clone, Args)]
pub struct StatusArgs {
    /// The run to show (default: the active run, or the latest)
    #[arg(value_name = "RUN_ID")]
    pub run_id: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct RunsArgs {}

#[derive(Debug, Clone, Args)]
pub struct HistoryArgs {
    /// Only runs of this drill
    #[arg(long, value_name = "NAME")]
    pub drill: Option<String>,
    /// At most this many runs, newest first
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub limit: usize,
}

/// `report --format` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Human,
    Json,
    /// A self-contained page with an SVG timeline
    Html,
}

#[derive(Debug, Clone, Args)]
pub struct ReportArgs {
    /// The run to report on (see `drctl runs`, `drctl history`)
    #[arg(value_name = "RUN_ID")]
    pub run_id: String,
    /// Report format
    #[arg(long, value_enum, default_value_t = ReportFormat::Human)]
    pub format: ReportFormat,
    /// Write to this file instead of stdout
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// With --format html: add the chart of every drill in the history
    #[arg(long)]
    pub history: bool,
}

#[derive(Debug, Clone, Args)]
pub struct CheckArgs {
    /// Runbooks or drills whose RPO targets to check (default: every drill in ./drills)
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,
}

#[derive(Debug, Clone, Args)]
pub struct ScheduleArgs {
    #[command(subcommand)]
    pub action: ScheduleAction,
}

/// `drctl schedule` subcommands.
#[derive(Debug, Clone, Subcommand)]
pub enum ScheduleAction {
    /// Show what apply would create, update and delete (read-only)
    #[command(
        after_help = "Examples:\n  drctl --region us-west-2 schedule plan --function-arn $FN --role-arn $ROLE\n  \
drctl schedule plan drills/monthly.toml --output json | jq '.changes[] | select(.action != \"unchanged\")'\n\n\
Formats: human (on stdout), json (one document on stdout).\n\
Exit codes: 0 planned, 1 an AWS call failed, 2 invalid drill files or arguments."
    )]
    Plan(ScheduleSpecArgs),
    /// Create, update and delete schedules so the group matches the drill files
    #[command(
        after_help = "Examples:\n  drctl --region us-west-2 schedule apply --function-arn $FN --role-arn $ROLE --yes\n  \
drctl schedule apply --check-every off --yes\n\n\
Asks for confirmation when there is something to change, unless --yes; without a terminal and \
without --yes it refuses (exit 4). Applying twice changes nothing the second time.\n\
Exit codes: 0 applied (or nothing to do), 1 an AWS call failed (apply again to finish), \
2 invalid drill files or arguments, 4 not confirmed."
    )]
    Apply(ScheduleApplyArgs),
    /// Delete every drctl- schedule in the group
    #[command(
        after_help = "Examples:\n  drctl --region us-west-2 schedule remove --yes\n\n\
Exit codes: 0 removed (or none there), 1 an AWS call failed, 4 not confirmed (no terminal and no --yes)."
    )]
    Remove(ScheduleRemoveArgs),
}

/// An EventBridge Scheduler group name: `[0-9a-zA-Z-_.]`, 1 to 64 characters.
fn parse_schedule_group(text: &str) -> Result<String, UsageError> {
    let ok = (1..=64).contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if ok {
        Ok(text.to_owned())
    } else {
        Err(UsageError(format!(
            "a schedule group name has 1 to 64 letters, digits, `-`, `_` or `.`, got `{text}`"
        )))
    }
}

/// `--check-every`: a rate or cron expression, or `off`.
fn parse_check_every(text: &str) -> Result<String, UsageError> {
    if text == "off" {
        return Ok(text.to_owned());
    }
    crate::runbook::check_schedule(text)
        .map(|()| text.to_owned())
        .map_err(|e| UsageError(format!("{} ({}), or `off`", e.message, e.hint)))
}

fn parse_function_arn(text: &str) -> Result<String, UsageError> {
    if text.starts_with("arn:") && text.contains(":lambda:") && text.contains(":function:") {
        Ok(text.to_owned())
    } else {
        Err(UsageError(format!(
            "expected a Lambda function ARN such as arn:aws:lambda:us-west-2:123456789012:function:drctl, got `{text}`"
        )))
    }
}

fn parse_role_arn(text: &str) -> Result<String, UsageError> {
    if text.starts_with("arn:") && text.contains(":iam::") && text.contains(":role/") {
        Ok(text.to_owned())
    } else {
        Err(UsageError(format!(
            "expected an IAM role ARN such as arn:aws:iam::123456789012:role/drctl-scheduler, got `{text}`"
        )))
    }
}

/// What `schedule plan` and `schedule apply` need: the drills and the target.
#[derive(Debug, Clone, Args)]
pub struct ScheduleSpecArgs {
    /// Drill files to schedule (default: every *.toml in ./drills); drills without a
    /// `schedule` get none
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// The drctl Lambda function the schedules invoke
    #[arg(long, env = "DRCTL_FUNCTION_ARN", value_name = "ARN", value_parser = parse_function_arn)]
    pub function_arn: String,
    /// The IAM role EventBridge Scheduler assumes to invoke the function
    #[arg(long, env = "DRCTL_SCHEDULER_ROLE_ARN", value_name = "ARN", value_parser = parse_role_arn)]
    pub role_arn: String,
    /// The schedule group, in --region (use the recovery region); apply creates it if missing
    #[arg(long, value_name = "NAME", default_value = "drctl", value_parser = parse_schedule_group)]
    pub group: String,
    /// How often the `drctl-check` schedule runs `drctl check`, or `off` for no such schedule
    #[arg(long, value_name = "EXPR", default_value = "rate(5 minutes)", value_parser = parse_check_every)]
    pub check_every: String,
}

impl ScheduleSpecArgs {
    /// The check schedule's expression; `None` for `--check-every off`.
    pub fn check_every(&self) -> Option<&str> {
        (self.check_every != "off").then_some(self.check_every.as_str())
    }
}

#[derive(Debug, Clone, Args)]
pub struct ScheduleApplyArgs {
    #[command(flatten)]
    pub spec: ScheduleSpecArgs,
    /// Do not ask for confirmation (required when there is no terminal)
    #[arg(long)]
    pub yes: bool,
}

#[derive(Debug, Clone, Args)]
pub struct ScheduleRemoveArgs {
    /// The schedule group
    #[arg(long, value_name = "NAME", default_value = "drctl", value_parser = parse_schedule_group)]
    pub group: String,
    /// Do not ask for confirmation (required when there is no terminal)
    #[arg(long)]
    pub yes: bool,
}

#[derive(Debug, Clone, Args)]
#[command(group = clap::ArgGroup::new("which").required(true).args(["run_id", "all_stale"]))]
pub struct CleanupArgs {
    /// The drill run whose resources to remove
    #[arg(value_name = "RUN_ID")]
    pub run_id: Option<String>,
    /// Every drill run in the state directory whose cleanup is not known to be complete
    /// (an undo failed or never ran, or the run never finished) and whose process is gone
    #[arg(long)]
    pub all_stale: bool,
    /// Confirm the failback of live drills whose failback is pending (it moves production
    /// back); what isolated drills left is removed without asking
    #[arg(long)]
    pub yes: bool,
    /// List what would be removed, and stop (only reads from AWS)
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Clone, Args)]
pub struct IamPolicyArgs {
    /// The runbook whose steps' IAM actions to collect
    #[arg(value_name = "RUNBOOK")]
    pub runbook: PathBuf,
}

/// Which file format `schema` describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SchemaKind {
    Runbook,
    Drill,
}

#[derive(Debug, Clone, Args)]
pub struct SchemaArgs {
    /// runbook (default) or drill
    #[arg(value_enum, default_value_t = SchemaKind::Runbook)]
    pub kind: SchemaKind,
}

/// `drctl lambda`: settings only the Lambda handler reads (docs/lambda.md).
#[derive(Debug, Clone, Args)]
pub struct LambdaArgs {
    /// Where `drills/` and `runbooks/` are (default: LAMBDA_TASK_ROOT, else the current
    /// directory)
    #[arg(long, env = "DRCTL_HOME", value_name = "DIR")]
    pub home: Option<PathBuf>,
    /// Seconds before an invocation's deadline at which a running drill is stopped and left
    /// to be continued by the next invocation
    #[arg(
        long,
        env = "DRCTL_LAMBDA_MARGIN_SECS",
        default_value_t = 60,
        value_name = "SECONDS"
    )]
    pub margin_secs: u64,
}

#[derive(Debug, Clone, Args)]
pub struct CompletionsArgs {
    /// bash, zsh, fish, elvish or powershell
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn vars_need_a_name() {
        assert_eq!(parse_var("a=b=c"), Ok(("a".into(), "b=c".into())));
        assert!(parse_var("=x").is_err());
        assert!(parse_var("x").is_err());
    }

    #[test]
    fn notify_needs_a_topic_arn_and_emf_reads_boolish_env_values() {
        assert!(parse_topic_arn("arn:aws:sns:us-west-2:123456789012:dr-alerts").is_ok());
        assert!(parse_topic_arn("dr-alerts").is_err());
        assert_eq!(parse_topic_arn(""), Ok(String::new()));
        let cli = Cli::try_parse_from([
            "drctl",
            "drill",
            "drills/monthly.toml",
            "--emf",
            "--notify",
            "arn:aws:sns:us-east-1:123456789012:t",
        ])
        .unwrap();
        assert!(cli.global.emf);
        assert_eq!(
            cli.global.notify.as_deref(),
            Some("arn:aws:sns:us-east-1:123456789012:t")
        );
    }
}
