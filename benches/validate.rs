//! Validation and planning speed on generated runbooks of 1,000 and 10,000 steps.
//!
//! A plain `main` (`harness = false`): each case is timed over several repeats and the median
//! printed, next to the median of parsing the same text as bare TOML in the same run — the
//! floor no validator can go below — so the ratio says what validation itself costs on this
//! machine, whatever the machine. Nothing here asserts on time.
//!
//!     cargo bench --bench validate

use std::collections::BTreeMap;
use std::hint::black_box;
use std::time::{Duration, Instant};

use drctl::runbook::{load_runbook_str, plan};

/// A runbook of `n` steps in layers of 20: each step runs after two steps of the layer before,
/// uses a variable and (every tenth) an ancestor's output, mixing actions with parameters.
fn generate(n: usize) -> String {
    let mut text = String::with_capacity(n * 160);
    text.push_str(
        "name = \"bench\"\n[regions]\nprimary = \"us-east-1\"\nrecovery = \"us-west-2\"\n",
    );
    text.push_str(
        "[targets]\nrto = \"30m\"\n[vars]\ncluster = \"c\"\nurl = \"http://127.0.0.1/health\"\n",
    );
    for i in 0..n {
        text.push_str(&format!("\n[[steps]]\nid = \"step-{i}\"\n"));
        if i >= 20 {
            let base = (i / 20 - 1) * 20;
            text.push_str(&format!(
                "after = [\"step-{}\", \"step-{}\"]\n",
                base + i % 20,
                base + (i + 7) % 20
            ));
        }
        match i % 3 {
            0 => text.push_str(
                "action = \"ecs.scale\"\nregion = \"recovery\"\ntimeout = \"10m\"\n[steps.with]\ncluster = \"${vars.cluster}\"\nservices = { web = 2, worker = 1 }\n",
            ),
            1 => {
                text.push_str("action = \"http.probe\"\n[steps.with]\nurl = \"${vars.url}");
                if i >= 20 {
                    // A direct dependency that is an ecs.scale step, when there is one.
                    let base = (i / 20 - 1) * 20;
                    let scale = [base + i % 20, base + (i + 7) % 20].into_iter().find(|d| d % 3 == 0);
                    if let Some(d) = scale {
                        text.push_str(&format!("?after=${{steps.step-{d}.previous_counts}}"));
                    }
                }
                text.push_str("\"\ninterval = \"5s\"\n");
            }
            _ => text.push_str("action = \"approve\"\n[steps.with]\nmessage = \"go?\"\n"),
        }
    }
    text
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn time(repeats: usize, mut f: impl FnMut()) -> Duration {
    f(); // warm up
    median(
        (0..repeats)
            .map(|_| {
                let start = Instant::now();
                f();
                start.elapsed()
            })
            .collect(),
    )
}

fn main() {
    let vars = BTreeMap::new();
    println!(
        "{:>7}  {:>12}  {:>16}  {:>6}",
        "steps", "toml parse", "validate + plan", "ratio"
    );
    let sizes: Vec<(usize, usize)> = match std::env::var("DRCTL_BENCH_SIZES") {
        // e.g. DRCTL_BENCH_SIZES=1000,10000,40000 to look at how the cost grows
        Ok(list) => list
            .split(',')
            .filter_map(|s| s.trim().parse().ok())
            .map(|n| (n, 5))
            .collect(),
        Err(_) => vec![(1_000, 21), (10_000, 7)],
    };
    for (n, repeats) in sizes {
        let text = generate(n);
        // Make sure the generated runbook is valid: a benchmark of error paths would mislead.
        let runbook = load_runbook_str("bench.toml", &text, &vars)
            .unwrap_or_else(|d| panic!("{}", d.render(false)));
        assert_eq!(plan(&runbook).order.len(), n);

        let parse = time(repeats, || {
            black_box(toml::de::DeTable::parse(black_box(&text)).unwrap());
        });
        let full = time(repeats, || {
            let runbook = load_runbook_str("bench.toml", black_box(&text), &vars).unwrap();
            black_box(plan(&runbook));
        });
        println!(
            "{n:>7}  {:>10.2}ms  {:>14.2}ms  {:>5.1}x",
            parse.as_secs_f64() * 1e3,
            full.as_secs_f64() * 1e3,
            full.as_secs_f64() / parse.as_secs_f64()
        );
    }
}
