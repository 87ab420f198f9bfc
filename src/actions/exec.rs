//! `exec`: a shell hook, e.g. the external MongoDB Atlas failover. The hook receives the
//! run's identity and every finished step's outputs as environment variables
//! (`DRCTL_STEP_<STEP>_<OUTPUT>`, upper-cased, non-alphanumerics as `_`). Its output is kept
//! short and redacted of every secret value drctl knows of (credential-like environment
//! variables), because it lands in the journal and reports.

use std::process::Stdio;

use tokio::process::Command;

use serde::{Deserialize, Serialize};

use super::spec::{ActionSpec, ParamType, RegionUse, opt, out, req};
use super::{ActionError, BoxFuture, Outcome, StepContext, TypedAction};

/// `exec` in the catalogue.
pub(crate) static SPEC: ActionSpec = ActionSpec {
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
};

/// `exec`.
pub(crate) struct Exec;

/// The parameters of `exec`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Params {
    /// Program and arguments.
    command: Vec<String>,
    /// Program and arguments a drill runs to undo the hook.
    undo: Option<Vec<String>>,
}

/// What a drill runs to undo the hook.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Undo {
    command: Vec<String>,
}

const KEEP_BYTES: usize = 4096;

fn env_name(parts: &[&str]) -> String {
    parts
        .iter()
        .map(|p| {
            p.chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() {
                        c.to_ascii_uppercase()
                    } else {
                        '_'
                    }
                })
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("_")
}

/// Values that must never appear in output: credential-like environment variables.
fn secret_values() -> Vec<String> {
    const MARKERS: &[&str] = &[
        "SECRET",
        "TOKEN",
        "PASSWORD",
        "PASSWD",
        "PRIVATE",
        "CREDENTIAL",
        "API_KEY",
    ];
    std::env::vars()
        .filter(|(k, v)| {
            let k = k.to_ascii_uppercase();
            v.len() >= 6 && MARKERS.iter().any(|m| k.contains(m))
        })
        .map(|(_, v)| v)
        .collect()
}

/// Replace every known secret value with `[REDACTED]`.
pub(crate) fn redact(text: &str, secrets: &[String]) -> String {
    let mut out = text.to_string();
    for secret in secrets {
        if !secret.is_empty() {
            out = out.replace(secret.as_str(), "[REDACTED]");
        }
    }
    out
}

fn tail(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let trimmed = text.trim();
    if trimmed.len() <= KEEP_BYTES {
        return trimmed.to_string();
    }
    let mut start = trimmed.len() - KEEP_BYTES;
    while !trimmed.is_char_boundary(start) {
        start += 1;
    }
    format!("…{}", &trimmed[start..])
}

async fn run_hook(ctx: &StepContext, argv: &[String]) -> Result<Outcome<Undo>, ActionError> {
    let resource = format!("hook `{}`", argv.join(" "));
    let (program, args) = argv
        .split_first()
        .ok_or_else(|| ActionError::fatal(&resource, "the command is empty"))?;
    let mut cmd = Command::new(program);
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .env("DRCTL_RUN_ID", &ctx.run_id)
        .env("DRCTL_STEP", &ctx.step_id)
        .env(
            "DRCTL_MODE",
            serde_json::to_value(ctx.mode)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
        );
    for (step, outputs) in &ctx.step_outputs {
        for (name, value) in outputs {
            cmd.env(format!("DRCTL_STEP_{}", env_name(&[step, name])), value);
        }
    }
    ctx.progress(format!("running {resource}"));
    let output = cmd
        .output()
        .await
        .map_err(|e| ActionError::fatal(&resource, format!("cannot start: {e}")))?;
    let secrets = secret_values();
    let stdout = redact(&tail(&output.stdout), &secrets);
    let stderr = redact(&tail(&output.stderr), &secrets);
    let code = output.status.code().unwrap_or(-1);
    if !output.status.success() {
        return Err(ActionError::fatal(
            resource,
            format!(
                "exited with {}{}",
                output
                    .status
                    .code()
                    .map(|c| format!("code {c}"))
                    .unwrap_or_else(|| "a signal".into()),
                if stderr.is_empty() {
                    String::new()
                } else {
                    format!(": {stderr}")
                }
            ),
        ));
    }
    let mut outcome = Outcome::default();
    outcome.outputs.insert("exit_code".into(), code.to_string());
    outcome.outputs.insert("stdout".into(), stdout);
    Ok(outcome)
}

impl TypedAction for Exec {
    const SPEC: &'static ActionSpec = &SPEC;
    type Params = Params;
    type Undo = Undo;

    fn describe(&self, _ctx: &StepContext, p: &Params) -> Vec<String> {
        vec![format!("run hook `{}`", p.command.join(" "))]
    }

    fn run<'a>(
        &'a self,
        ctx: &'a StepContext,
        p: Params,
    ) -> BoxFuture<'a, Result<Outcome<Undo>, ActionError>> {
        Box::pin(async move {
            let mut outcome = run_hook(ctx, &p.command).await?;
            if let Some(command) = p.undo.filter(|c| !c.is_empty()) {
                outcome.undo = Some(Undo { command });
            }
            Ok(outcome)
        })
    }

    /// Run the undo hook (a hook without one left no undo record).
    fn undo<'a>(
        &'a self,
        ctx: &'a StepContext,
        undo: Undo,
    ) -> BoxFuture<'a, Result<(), ActionError>> {
        Box::pin(async move {
            if undo.command.is_empty() {
                return Ok(());
            }
            run_hook(ctx, &undo.command).await.map(|_| ())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_every_occurrence_and_names_env_vars() {
        let secrets = vec!["hunter2-very-secret".to_string()];
        assert_eq!(
            redact(
                "pw=hunter2-very-secret; again hunter2-very-secret",
                &secrets
            ),
            "pw=[REDACTED]; again [REDACTED]"
        );
        assert_eq!(
            env_name(&["restore-qdrant", "file_system_id"]),
            "RESTORE_QDRANT_FILE_SYSTEM_ID"
        );
    }
}
