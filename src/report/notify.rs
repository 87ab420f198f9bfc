//! Run notifications as text: the subject and body of the message sent when a run starts and
//! when it finishes (`--notify`). Pure functions of the run header and the report, so what
//! on-call reads is tested here and `runner::notify` only delivers it. They use only what the
//! report already shows (ids, names, times, figures, the summary), never a secret value.

use super::model::{Report, Verdict, human_secs};
use crate::actions::Mode;
use crate::engine::{RunHeader, RunStatus};

/// SNS rejects subjects of 100 characters or more.
const SUBJECT_MAX: usize = 99;

/// One message: a one-line subject and a plain-text body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub subject: String,
    pub body: String,
}

/// How a finished run ended, in the words of the finish message's subject.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Recovered, every target met.
    Met,
    /// Recovered, a target missed.
    Missed,
    /// A step failed (or a drill's cleanup left resources behind).
    Failed,
    /// Stopped by Ctrl-C or SIGTERM; resumable.
    Interrupted,
    /// Every step succeeded but no verification step gave an RTO figure.
    Unmeasured,
}

impl Outcome {
    /// The outcome of a report.
    pub fn of(report: &Report) -> Outcome {
        match (report.result, report.run_status) {
            (_, Some(RunStatus::Interrupted)) => Outcome::Interrupted,
            (Verdict::Error, Some(RunStatus::Succeeded)) => Outcome::Unmeasured,
            (Verdict::Error, _) => Outcome::Failed,
            // A drill that met its targets but could not remove what it created is a failed
            // drill (exit 1): someone has to clean up.
            _ if report.cleanup.status == "leftovers" => Outcome::Failed,
            (Verdict::Met, _) => Outcome::Met,
            (Verdict::Missed, _) => Outcome::Missed,
        }
    }

    fn subject_words(self) -> &'static str {
        match self {
            Outcome::Met => "met its targets",
            Outcome::Missed => "MISSED its targets",
            Outcome::Failed => "FAILED",
            Outcome::Interrupted => "interrupted (resumable)",
            Outcome::Unmeasured => "finished, RTO not measured",
        }
    }
}

/// `drill monthly` or `failover region-failover`.
fn what(drill: Option<&str>, runbook: &str) -> String {
    match drill {
        Some(d) => format!("drill {d}"),
        None => format!("failover {runbook}"),
    }
}

fn mode_words(mode: Mode) -> &'static str {
    match mode {
        Mode::Failover => "failover",
        Mode::DrillIsolated => "isolated drill",
        Mode::DrillLive => "live drill (a real failover)",
    }
}

/// Subjects are marked like the `notify` action's so nobody mistakes a drill for an incident,
/// made printable ASCII on one line (SNS refuses anything else) and cut to SNS's limit.
fn subject(mode: Mode, text: &str) -> String {
    let marked = if mode.is_drill() {
        format!("[DRILL] drctl: {text}")
    } else {
        format!("drctl: {text}")
    };
    marked
        .chars()
        .map(|c| if c.is_ascii_graphic() { c } else { ' ' })
        .take(SUBJECT_MAX)
        .collect()
}

/// Times to the second, in UTC: `2026-03-01T06:00:00Z`.
fn time(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn target_words(seconds: Option<f64>) -> String {
    seconds.map_or_else(|| "none".to_string(), human_secs)
}

/// The message sent when a run starts (or is resumed).
pub fn start_message(header: &RunHeader, resumed: bool) -> Message {
    let what = what(header.drill_name.as_deref(), &header.runbook_name);
    let verb = if resumed { "resumed" } else { "started" };
    let mut body = format!("drctl {what} {verb} ({}).\n\n", mode_words(header.mode));
    body.push_str(&format!("run:        {}\n", header.run_id));
    body.push_str(&format!("runbook:    {}\n", header.runbook_name));
    if let Some(drill) = &header.drill_name {
        body.push_str(&format!("drill:      {drill}\n"));
    }
    body.push_str(&format!("T0:         {}\n", time(header.t0)));
    body.push_str(&format!(
        "RTO target: {}\n",
        target_words(header.rto_target_secs.map(|s| s as f64))
    ));
    body.push_str(&format!(
        "RPO target: {}\n",
        target_words(header.rpo_target_secs.map(|s| s as f64))
    ));
    body.push_str(&format!(
        "host:       {} (pid {})\n",
        header.host, header.pid
    ));
    body.push_str(&format!(
        "\nFollow it with: drctl status {}\n",
        header.run_id
    ));
    Message {
        subject: subject(
            header.mode,
            &format!("{what} {verb}, run {}", header.run_id),
        ),
        body,
    }
}

/// `14m 3s, target 45m: met` / `17m 0s, target 5m: MISSED by 12m 0s`.
fn figure_line(achieved: Option<f64>, target: Option<f64>, note: Option<&str>) -> String {
    let Some(a) = achieved else {
        return match note {
            Some(n) => format!("not measured ({n})"),
            None => "not measured".into(),
        };
    };
    match target {
        Some(t) if a > t => format!(
            "{} ({a:.1} s), target {}: MISSED by {}",
            human_secs(a),
            human_secs(t),
            human_secs(a - t)
        ),
        Some(t) => format!(
            "{} ({a:.1} s), target {}: met",
            human_secs(a),
            human_secs(t)
        ),
        None => format!("{} ({a:.1} s), no target", human_secs(a)),
    }
}

/// The message sent when a run finishes: the outcome in the subject; the run id, runbook or
/// drill, achieved RTO and RPO against their targets (and by how much a target was missed),
/// and the path of the HTML report in the body.
pub fn finish_message(report: &Report, html: Option<&str>) -> Message {
    let outcome = Outcome::of(report);
    let what = what(report.drill.as_deref(), &report.runbook);
    let words = outcome.subject_words();
    let mut body = format!("drctl {what} {words} ({}).\n\n", mode_words(report.mode));
    body.push_str(&format!("run:      {}\n", report.run_id));
    body.push_str(&format!("runbook:  {}\n", report.runbook));
    if let Some(drill) = &report.drill {
        body.push_str(&format!("drill:    {drill}\n"));
    }
    body.push_str(&format!(
        "result:   {}\n",
        match outcome {
            Outcome::Met => "met",
            Outcome::Missed => "missed",
            Outcome::Failed => "failed",
            Outcome::Interrupted => "interrupted",
            Outcome::Unmeasured => "not measured",
        }
    ));
    if !report.summary.is_empty() {
        body.push_str(&format!("summary:  {}\n", report.summary));
    }
    body.push_str(&format!(
        "RTO:      {}\n",
        figure_line(
            report.rto.achieved_seconds,
            report.rto.target_seconds,
            report.rto.note.as_deref()
        )
    ));
    if report.rto.met == Some(false)
        && let Some(step) = &report.rto.dominant_step
    {
        body.push_str(&format!(
            "          step `{step}` dominated the critical path\n"
        ));
    }
    body.push_str(&format!(
        "RPO:      {}\n",
        figure_line(report.rpo.achieved_seconds, report.rpo.target_seconds, None)
    ));
    if let Some(worst) = &report.rpo.worst_resource {
        body.push_str(&format!("          set by {worst}\n"));
    }
    body.push_str(&format!("T0:       {}\n", time(report.t0)));
    body.push_str(&format!("finished: {}\n", time(report.finished_at)));
    if report.cleanup.status != "not_applicable" {
        body.push_str(&format!("cleanup:  {}\n", report.cleanup.status));
        for failure in &report.cleanup.failures {
            body.push_str(&format!("          left behind: {failure}\n"));
        }
    }
    if let Some(path) = html {
        body.push_str(&format!("report:   {path}\n"));
    }
    match outcome {
        Outcome::Failed | Outcome::Interrupted
            if report.run_status != Some(RunStatus::Succeeded) =>
        {
            body.push_str(&format!(
                "\nContinue it with: drctl resume {}\n",
                report.run_id
            ));
        }
        _ if report.cleanup.status == "leftovers" => {
            body.push_str(&format!(
                "\nRemove what it left with: drctl cleanup {}\n",
                report.run_id
            ));
        }
        _ => {}
    }
    Message {
        subject: subject(
            report.mode,
            &format!("{what} {words}, run {}", report.run_id),
        ),
        body,
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};

    use super::*;
    use crate::measure::{RpoFigure, RtoFigure};
    use crate::report::CleanupReport;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    fn report(result: Verdict, status: RunStatus) -> Report {
        let t0 = at("2026-03-01T06:00:00Z");
        Report {
            schema_version: 1,
            run_id: "20260301T060000Z-9c1d2e".into(),
            kind: "drill".into(),
            drill: Some("quarterly".into()),
            runbook: "region-failover".into(),
            mode: Mode::DrillIsolated,
            result,
            run_status: Some(status),
            started_at: t0,
            finished_at: at("2026-03-01T06:20:00Z"),
            t0,
            rto: RtoFigure {
                achieved_seconds: Some(843.0),
                target_seconds: Some(1800.0),
                met: Some(true),
                t0,
                recovered_at: Some(at("2026-03-01T06:14:03Z")),
                verification_steps: vec!["probe-app".into()],
                critical_path: vec!["restore-qdrant".into(), "probe-app".into()],
                dominant_step: Some("restore-qdrant".into()),
                note: None,
            },
            rpo: RpoFigure {
                achieved_seconds: Some(1020.0),
                target_seconds: Some(300.0),
                met: Some(false),
                evidence: vec![],
                worst_resource: Some("efs fs-1234 (us-west-2)".into()),
            },
            steps: vec![],
            cleanup: CleanupReport {
                status: "clean".into(),
                undone: vec![],
                failures: vec![],
            },
            summary: "RTO 14m 3s within 30m; RPO 17m 0s missed the 5m 0s target by 12m 0s".into(),
        }
    }

    fn header() -> RunHeader {
        RunHeader {
            run_id: "20260301T060000Z-9c1d2e".into(),
            command: "drill".into(),
            runbook_name: "region-failover".into(),
            runbook_path: "/r/region-failover.toml".into(),
            runbook_sha256: "00".into(),
            drill_path: Some("/d/quarterly.toml".into()),
            drill_name: Some("quarterly".into()),
            mode: Mode::DrillIsolated,
            t0: at("2026-03-01T06:00:00Z"),
            rto_target_secs: Some(1800),
            rpo_target_secs: Some(300),
            var_overrides: [("token".to_string(), "var-value-never-sent".to_string())].into(),
            only: vec![],
            skip: vec![],
            max_parallel: 4,
            host: "runner-1".into(),
            pid: 42,
        }
    }

    #[test]
    fn a_missed_target_says_missed_and_by_how_much() {
        let m = finish_message(
            &report(Verdict::Missed, RunStatus::Succeeded),
            Some("/state/runs/x/report.html"),
        );
        assert_eq!(
            m.subject,
            "[DRILL] drctl: drill quarterly MISSED its targets, run 20260301T060000Z-9c1d2e"
        );
        assert!(m.body.starts_with(
            "drctl drill quarterly MISSED its targets (isolated drill).\n\nrun:      20260301T060000Z-9c1d2e\nrunbook:  region-failover\ndrill:    quarterly\nresult:   missed\n"
        ), "{}", m.body);
        assert!(
            m.body
                .contains("RTO:      14m 3s (843.0 s), target 30m 0s: met\n"),
            "{}",
            m.body
        );
        assert!(
            m.body.contains(
                "RPO:      17m 0s (1020.0 s), target 5m 0s: MISSED by 12m 0s\n          set by efs fs-1234 (us-west-2)\n"
            ),
            "{}",
            m.body
        );
        assert!(m.body.contains("report:   /state/runs/x/report.html\n"));
        assert!(m.body.contains("cleanup:  clean\n"));
        assert!(
            m.body
                .contains("T0:       2026-03-01T06:00:00Z\nfinished: 2026-03-01T06:20:00Z\n"),
            "{}",
            m.body
        );
        assert!(!m.body.contains("drctl resume"));
    }

    #[test]
    fn every_outcome_has_its_word_in_the_subject() {
        let cases = [
            (Verdict::Met, RunStatus::Succeeded, "met its targets"),
            (Verdict::Missed, RunStatus::Succeeded, "MISSED its targets"),
            (Verdict::Error, RunStatus::Failed, "FAILED"),
            (
                Verdict::Error,
                RunStatus::Interrupted,
                "interrupted (resumable)",
            ),
            (
                Verdict::Error,
                RunStatus::Succeeded,
                "finished, RTO not measured",
            ),
        ];
        for (verdict, status, words) in cases {
            let m = finish_message(&report(verdict, status), None);
            assert!(m.subject.contains(words), "{status:?}: {}", m.subject);
            let resumable = matches!(status, RunStatus::Failed | RunStatus::Interrupted);
            assert_eq!(
                m.body
                    .contains("Continue it with: drctl resume 20260301T060000Z-9c1d2e"),
                resumable,
                "{}",
                m.body
            );
        }
    }

    #[test]
    fn leftovers_fail_a_drill_that_met_its_targets() {
        let mut r = report(Verdict::Met, RunStatus::Succeeded);
        r.cleanup.status = "leftovers".into();
        r.cleanup.failures = vec!["restore-qdrant: failed: DeleteFileSystem".into()];
        let m = finish_message(&r, None);
        assert!(m.subject.contains("FAILED"), "{}", m.subject);
        assert!(m.body.contains("left behind: restore-qdrant"), "{}", m.body);
        assert!(m.body.contains("drctl cleanup 20260301T060000Z-9c1d2e"));
    }

    #[test]
    fn a_failover_is_not_marked_as_a_drill_and_a_missing_figure_is_explained() {
        let mut r = report(Verdict::Error, RunStatus::Failed);
        r.kind = "failover".into();
        r.drill = None;
        r.mode = Mode::Failover;
        r.cleanup.status = "not_applicable".into();
        r.rto.achieved_seconds = None;
        r.rto.note = Some("verification step `probe-app` did not succeed".into());
        let m = finish_message(&r, None);
        assert_eq!(
            m.subject,
            "drctl: failover region-failover FAILED, run 20260301T060000Z-9c1d2e"
        );
        assert!(
            m.body.contains(
                "RTO:      not measured (verification step `probe-app` did not succeed)\n"
            ),
            "{}",
            m.body
        );
        assert!(!m.body.contains("cleanup:"));
        assert!(!m.body.contains("drill:"));
    }

    #[test]
    fn the_start_message_names_the_run_and_targets_but_no_variable_values() {
        let m = start_message(&header(), false);
        assert_eq!(
            m.subject,
            "[DRILL] drctl: drill quarterly started, run 20260301T060000Z-9c1d2e"
        );
        assert!(m.body.contains("run:        20260301T060000Z-9c1d2e\n"));
        assert!(
            m.body.contains("RTO target: 30m 0s\nRPO target: 5m 0s\n"),
            "{}",
            m.body
        );
        assert!(!m.body.contains("var-value-never-sent"));
        assert!(start_message(&header(), true).subject.contains("resumed"));
    }

    #[test]
    fn subjects_are_one_printable_ascii_line_under_the_sns_limit() {
        let mut h = header();
        h.drill_name = Some(format!(
            "dr\u{e9}ll\nwith-a-{}",
            "very-long-name-".repeat(10)
        ));
        let s = start_message(&h, false).subject;
        assert_eq!(s.chars().count(), SUBJECT_MAX);
        assert!(s.chars().all(|c| c.is_ascii_graphic() || c == ' '), "{s}");
    }
}
