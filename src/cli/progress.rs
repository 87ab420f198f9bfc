//! Live progress for humans (indicatif on a terminal, plain lines otherwise) and the JSON
//! Lines event stream for machines. Both listen to the engine's events; neither computes.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::engine::{EventSink, RunEvent};
use crate::report::human_secs;
use crate::runner::{Notice, NoticeSink};

/// How events are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EventView {
    /// Bars on a terminal.
    Bars,
    /// One plain line per event on stderr.
    Lines,
    /// Every event as a JSON line on stdout.
    Jsonl,
    /// Nothing (quiet, or `--output json`).
    Silent,
}

struct Bars {
    multi: MultiProgress,
    overall: ProgressBar,
    steps: BTreeMap<String, ProgressBar>,
    t0: Option<DateTime<Utc>>,
    rto_target: Option<u64>,
    total: u64,
    done: u64,
}

/// Shared handle, so prompts can pause the bars.
#[derive(Clone)]
pub(crate) struct Progress {
    view: EventView,
    bars: Option<Arc<Mutex<Bars>>>,
}

fn clock_line(t0: Option<DateTime<Utc>>, at: DateTime<Utc>, rto: Option<u64>) -> String {
    let Some(t0) = t0 else { return String::new() };
    let elapsed = ((at - t0).num_milliseconds() as f64 / 1000.0).max(0.0);
    match rto {
        Some(t) => format!(
            "incident clock T0+{} / RTO {}",
            human_secs(elapsed),
            human_secs(t as f64)
        ),
        None => format!("incident clock T0+{}", human_secs(elapsed)),
    }
}

impl Progress {
    pub(crate) fn new(view: EventView) -> Progress {
        let bars = (view == EventView::Bars).then(|| {
            let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
            let overall = multi.add(ProgressBar::new(0));
            overall.set_style(
                ProgressStyle::with_template("{bar:30.cyan/blue} {pos}/{len} steps  {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            overall.enable_steady_tick(Duration::from_millis(250));
            Arc::new(Mutex::new(Bars {
                multi,
                overall,
                steps: BTreeMap::new(),
                t0: None,
                rto_target: None,
                total: 0,
                done: 0,
            }))
        });
        Progress { view, bars }
    }

    /// Run `f` with the bars hidden (for prompts).
    pub(crate) fn suspend<R>(&self, f: impl FnOnce() -> R) -> R {
        match &self.bars {
            Some(b) => {
                let multi = b.lock().map(|b| b.multi.clone());
                match multi {
                    Ok(m) => m.suspend(f),
                    Err(_) => f(),
                }
            }
            None => f(),
        }
    }

    /// Print a line for humans without tearing the bars.
    pub(crate) fn println(&self, line: &str) {
        match &self.bars {
            Some(b) => {
                if let Ok(b) = b.lock() {
                    let _ = b.multi.println(line);
                }
            }
            None => eprintln!("{line}"),
        }
    }

    /// Stop drawing.
    pub(crate) fn finish(&self) {
        if let Some(b) = &self.bars
            && let Ok(b) = b.lock()
        {
            for bar in b.steps.values() {
                bar.finish_and_clear();
            }
            b.overall.finish_and_clear();
        }
    }

    /// The sink that feeds this view.
    pub(crate) fn sink(&self) -> EventSink {
        let me = self.clone();
        Arc::new(move |event: RunEvent| me.on_event(event))
    }

    /// The runner's notices, as lines on stderr (above the bars, if any).
    pub(crate) fn notices(&self) -> NoticeSink {
        let me = self.clone();
        Arc::new(move |notice: Notice| me.println(&notice.to_string()))
    }

    fn on_event(&self, event: RunEvent) {
        match self.view {
            EventView::Silent => {}
            EventView::Jsonl => {
                if let Ok(line) = serde_json::to_string(&event) {
                    let mut out = std::io::stdout().lock();
                    let _ = writeln!(out, "{line}");
                    let _ = out.flush();
                }
            }
            EventView::Lines => {
                if let Some(line) = plain_line(&event) {
                    eprintln!("{line}");
                }
            }
            EventView::Bars => self.on_bar_event(event),
        }
    }

    fn on_bar_event(&self, event: RunEvent) {
        let Some(bars) = &self.bars else { return };
        let Ok(mut b) = bars.lock() else { return };
        match &event {
            RunEvent::RunStarted {
                t0,
                rto_target_secs,
                steps,
                ..
            } => {
                b.t0 = Some(*t0);
                b.rto_target = *rto_target_secs;
                b.total = steps.len() as u64;
                b.overall.set_length(b.total);
            }
            RunEvent::StepStarted {
                step,
                action,
                attempt,
                ..
            } => {
                let bar = b.multi.add(ProgressBar::new_spinner());
                bar.set_style(
                    ProgressStyle::with_template(
                        "  {spinner} {prefix:<22} {elapsed:>4}  {wide_msg}",
                    )
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                );
                bar.set_prefix(step.clone());
                bar.set_message(if *attempt > 1 {
                    format!("{action} (attempt {attempt})")
                } else {
                    action.clone()
                });
                bar.enable_steady_tick(Duration::from_millis(200));
                if let Some(old) = b.steps.insert(step.clone(), bar) {
                    old.finish_and_clear();
                }
            }
            RunEvent::StepProgress { step, message, .. } => {
                if let Some(bar) = b.steps.get(step) {
                    bar.set_message(message.clone());
                }
            }
            RunEvent::StepSucceeded { step, .. }
            | RunEvent::StepFailed { step, .. }
            | RunEvent::StepSkipped { step, .. } => {
                if let Some(bar) = b.steps.remove(step) {
                    bar.finish_and_clear();
                }
                b.done += 1;
                let done = b.done;
                b.overall.set_position(done);
                if let Some(line) = plain_line(&event) {
                    let _ = b.multi.println(line);
                }
            }
            _ => {
                if let Some(line) = plain_line(&event) {
                    let _ = b.multi.println(line);
                }
            }
        }
        let now = match &event {
            RunEvent::RunStarted { at, .. }
            | RunEvent::StepStarted { at, .. }
            | RunEvent::StepProgress { at, .. }
            | RunEvent::StepRetrying { at, .. }
            | RunEvent::StepSucceeded { at, .. }
            | RunEvent::StepFailed { at, .. }
            | RunEvent::StepSkipped { at, .. }
            | RunEvent::Stopping { at, .. }
            | RunEvent::UndoStarted { at, .. }
            | RunEvent::UndoFinished { at, .. }
            | RunEvent::RunFinished { at, .. } => *at,
        };
        let msg = clock_line(b.t0, now, b.rto_target);
        b.overall.set_message(msg);
    }
}

/// The line a plain (non-terminal) view prints for an event.
pub(crate) fn plain_line(event: &RunEvent) -> Option<String> {
    Some(match event {
        RunEvent::RunStarted {
            run_id,
            runbook,
            resumed,
            t0,
            ..
        } => format!(
            "{} run {run_id} of runbook `{runbook}` (T0 {})",
            if *resumed { "resuming" } else { "starting" },
            t0.to_rfc3339()
        ),
        RunEvent::StepStarted {
            step,
            action,
            attempt,
            ..
        } => {
            if *attempt > 1 {
                format!("  started   {step} ({action}, attempt {attempt})")
            } else {
                format!("  started   {step} ({action})")
            }
        }
        RunEvent::StepProgress { step, message, .. } => format!("            {step}: {message}"),
        RunEvent::StepRetrying {
            step,
            error,
            delay_ms,
            ..
        } => {
            format!("  retrying  {step} in {}ms: {error}", delay_ms)
        }
        RunEvent::StepSucceeded {
            step, simulated, ..
        } => match simulated {
            Some(why) => format!("  checked   {step} ({why})"),
            None => format!("  done      {step}"),
        },
        RunEvent::StepFailed { error, .. } => format!("  FAILED    {error}"),
        RunEvent::StepSkipped { step, reason, .. } => format!("  skipped   {step} ({reason})"),
        RunEvent::Stopping { reason, .. } => format!("stopping: {reason}"),
        RunEvent::UndoStarted { step, .. } => format!("  undoing   {step}"),
        RunEvent::UndoFinished { step, error, .. } => match error {
            Some(e) => format!("  UNDO FAILED {step}: {e}"),
            None => format!("  undone    {step}"),
        },
        RunEvent::RunFinished { run_id, status, .. } => {
            format!("run {run_id} finished: {status:?}")
        }
    })
}
