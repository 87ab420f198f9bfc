//! A self-contained HTML report (no external assets): the verdict, RTO/RPO bars against
//! their targets, an SVG timeline of the steps on the incident clock, the evidence, and
//! optionally the drill history as a chart.

use std::fmt::Write;

use super::history::HistoryEntry;
use super::model::{Report, Verdict, human_secs};

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn bar(label: &str, achieved: Option<f64>, target: Option<f64>) -> String {
    let (Some(a), t) = (achieved, target) else {
        return format!("<p><b>{}</b>: not measured</p>", esc(label));
    };
    let scale = a.max(t.unwrap_or(0.0)).max(1.0) * 1.1;
    let w = 600.0;
    let aw = a / scale * w;
    let missed = t.is_some_and(|t| a > t);
    let mut svg = format!(
        r#"<svg class="bar" width="{}" height="46" role="img" aria-label="{label}"><rect x="0" y="8" width="{aw:.1}" height="20" fill="{}"/>"#,
        w + 10.0,
        if missed { "#c0392b" } else { "#27ae60" },
        label = esc(label)
    );
    if let Some(t) = t {
        let tx = t / scale * w;
        let _ = write!(
            svg,
            r##"<line x1="{tx:.1}" x2="{tx:.1}" y1="2" y2="34" stroke="#222" stroke-width="2" stroke-dasharray="4 2"/><text x="{tx:.1}" y="44" font-size="10" text-anchor="middle">target {}</text>"##,
            human_secs(t)
        );
    }
    svg.push_str("</svg>");
    format!(
        "<p><b>{}</b>: {}{}</p>{svg}",
        esc(label),
        human_secs(a),
        match t {
            Some(t) if a > t => format!(
                " — <span class=missed>missed by {}</span>",
                human_secs(a - t)
            ),
            Some(_) => " — <span class=met>met</span>".into(),
            None => String::new(),
        }
    )
}

fn timeline(r: &Report) -> String {
    let rows = r.steps.len().max(1);
    let end = r
        .steps
        .iter()
        .filter_map(|s| s.finished_at)
        .max()
        .unwrap_or(r.finished_at);
    let mut span = ((end - r.t0).num_milliseconds() as f64 / 1000.0).max(1.0);
    if let Some(t) = r.rto.target_seconds {
        span = span.max(t.min(span * 3.0));
    }
    let left = 170.0;
    let w = 640.0;
    let row_h = 22.0;
    let h = rows as f64 * row_h + 40.0;
    let x = |secs: f64| left + secs / span * w;
    let mut svg = format!(
        r#"<svg class="timeline" width="{}" height="{h}" role="img" aria-label="timeline of the steps">"#,
        left + w + 20.0
    );
    for (i, s) in r.steps.iter().enumerate() {
        let y = 10.0 + i as f64 * row_h;
        let _ = write!(
            svg,
            r#"<text x="{}" y="{}" font-size="12" text-anchor="end">{}</text>"#,
            left - 6.0,
            y + 13.0,
            esc(&s.id)
        );
        if let (Some(a), Some(b)) = (s.started_at, s.finished_at) {
            let sa = (a - r.t0).num_milliseconds() as f64 / 1000.0;
            let sb = (b - r.t0).num_milliseconds() as f64 / 1000.0;
            let color = match s.status.as_str() {
                "succeeded" if s.simulated.is_some() => "#95a5a6",
                "succeeded" if s.verify => "#2980b9",
                "succeeded" => "#27ae60",
                "failed" => "#c0392b",
                _ => "#f39c12",
            };
            let _ = write!(
                svg,
                r#"<rect x="{:.1}" y="{y}" width="{:.1}" height="16" fill="{color}"><title>{} {} ({})</title></rect>"#,
                x(sa.max(0.0)),
                (x(sb) - x(sa.max(0.0))).max(1.5),
                esc(&s.id),
                esc(&s.status),
                human_secs(sb - sa)
            );
        }
    }
    let axis_y = rows as f64 * row_h + 14.0;
    let _ = write!(
        svg,
        r##"<line x1="{left}" x2="{}" y1="{axis_y}" y2="{axis_y}" stroke="#555"/><text x="{left}" y="{}" font-size="10">T0</text><text x="{}" y="{}" font-size="10" text-anchor="end">+{}</text>"##,
        left + w,
        axis_y + 12.0,
        left + w,
        axis_y + 12.0,
        human_secs(span)
    );
    if let Some(a) = r.rto.achieved_seconds {
        let _ = write!(
            svg,
            r##"<line x1="{0:.1}" x2="{0:.1}" y1="0" y2="{axis_y}" stroke="#2980b9" stroke-width="2"/><text x="{0:.1}" y="{1}" font-size="10" fill="#2980b9">recovered</text>"##,
            x(a),
            axis_y + 24.0
        );
    }
    if let Some(t) = r.rto.target_seconds.filter(|t| *t <= span) {
        let _ = write!(
            svg,
            r##"<line x1="{0:.1}" x2="{0:.1}" y1="0" y2="{axis_y}" stroke="#c0392b" stroke-dasharray="5 3"/><text x="{0:.1}" y="{1}" font-size="10" fill="#c0392b" text-anchor="end">RTO target</text>"##,
            x(t),
            axis_y + 24.0
        );
    }
    svg.push_str("</svg>");
    svg
}

fn history_chart(history: &[HistoryEntry]) -> String {
    if history.is_empty() {
        return String::new();
    }
    let max = history
        .iter()
        .flat_map(|h| [h.rto_seconds, h.rto_target_seconds])
        .flatten()
        .fold(1.0_f64, f64::max)
        * 1.1;
    let w = 640.0;
    let h = 160.0;
    let step = w / history.len().max(1) as f64;
    let mut svg = format!(
        r#"<h2>History</h2><svg class="history" width="{}" height="{}" role="img" aria-label="achieved RTO of past drills">"#,
        w + 20.0,
        h + 20.0
    );
    for (i, e) in history.iter().enumerate() {
        if let Some(v) = e.rto_seconds {
            let bh = v / max * h;
            let color = if matches!(e.result, Verdict::Met) {
                "#27ae60"
            } else {
                "#c0392b"
            };
            let _ = write!(
                svg,
                r#"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{bh:.1}" fill="{color}"><title>{} {}: RTO {}</title></rect>"#,
                i as f64 * step + 2.0,
                h - bh,
                (step - 4.0).max(1.0),
                esc(&e.run_id),
                esc(e.drill.as_deref().unwrap_or("")),
                human_secs(v)
            );
        }
    }
    if let Some(t) = history.iter().rev().find_map(|e| e.rto_target_seconds) {
        let ty = h - t / max * h;
        let _ = write!(
            svg,
            r##"<line x1="0" x2="{w}" y1="{ty:.1}" y2="{ty:.1}" stroke="#222" stroke-dasharray="4 2"/>"##
        );
    }
    svg.push_str("</svg>");
    svg
}

/// Render the report as one HTML page.
pub fn render_html(r: &Report, history: &[HistoryEntry]) -> String {
    let mut out = String::new();
    let verdict = match r.result {
        Verdict::Met => "<span class=met>MET</span>",
        Verdict::Missed => "<span class=missed>MISSED</span>",
        Verdict::Error => "<span class=missed>ERROR</span>",
    };
    let _ = write!(
        out,
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>drctl {kind} {id}</title>
<style>body{{font-family:system-ui,sans-serif;margin:2em;max-width:900px;color:#222}}
table{{border-collapse:collapse;font-size:13px}}td,th{{border-bottom:1px solid #ddd;padding:4px 8px;text-align:left}}
.met{{color:#27ae60;font-weight:bold}}.missed{{color:#c0392b;font-weight:bold}}code{{font-size:12px}}</style></head><body>
<h1>drctl {kind}: {name}</h1><p>run <code>{id}</code> — runbook <code>{runbook}</code> — result {verdict}</p><p>{summary}</p>
<p>T0 (incident clock): {t0}</p>"#,
        kind = esc(&r.kind),
        id = esc(&r.run_id),
        name = esc(r.drill.as_deref().unwrap_or(&r.runbook)),
        runbook = esc(&r.runbook),
        summary = esc(&r.summary),
        t0 = r.t0.to_rfc3339()
    );
    out.push_str("<h2>Targets</h2>");
    out.push_str(&bar("RTO", r.rto.achieved_seconds, r.rto.target_seconds));
    out.push_str(&bar("RPO", r.rpo.achieved_seconds, r.rpo.target_seconds));
    out.push_str("<h2>Timeline</h2>");
    out.push_str(&timeline(r));
    if !r.rto.critical_path.is_empty() {
        let _ = write!(
            out,
            "<p>Critical path: {}</p>",
            esc(&r.rto.critical_path.join(" → "))
        );
    }
    out.push_str("<h2>RPO evidence</h2><table><tr><th>resource</th><th>RPO</th><th>evidence</th><th>source</th></tr>");
    for item in &r.rpo.evidence {
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td></tr>",
            esc(&item.evidence.resource),
            human_secs(item.seconds),
            esc(&item.evidence.detail),
            esc(&item.evidence.source)
        );
    }
    out.push_str("</table><h2>Steps</h2><table><tr><th>step</th><th>action</th><th>status</th><th>took</th><th>notes</th></tr>");
    for s in &r.steps {
        let _ = write!(
            out,
            "<tr><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&s.id),
            esc(&s.action),
            esc(&s.status),
            s.duration_seconds.map(human_secs).unwrap_or_default(),
            esc(&[s.simulated.clone(), s.error.clone(), s.undo.clone()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join("; "))
        );
    }
    out.push_str("</table>");
    let _ = write!(out, "<p>Cleanup: {}</p>", esc(&r.cleanup.status));
    out.push_str(&history_chart(history));
    out.push_str("</body></html>\n");
    out
}
