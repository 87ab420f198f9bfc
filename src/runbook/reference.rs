//! Reference documentation generated from the code: the action catalogue and the diagnostic
//! codes, as Markdown. `tests/docs.rs` checks that docs/runbook-reference.md contains exactly
//! this text, so the documentation cannot drift from the catalogue.

use crate::actions::spec::{CATALOGUE, RegionUse};

use super::code::Code;

/// The "Actions" section body: every action, its parameters and outputs.
pub fn actions_markdown() -> String {
    let mut out = String::new();
    for spec in CATALOGUE {
        out.push_str(&format!("### `{}`\n\n{}.\n\n", spec.name, spec.summary));
        let region = match spec.region {
            RegionUse::Required => "required (the region the action calls AWS in)",
            RegionUse::None => "not allowed (the action calls no regional AWS API)",
        };
        out.push_str(&format!(
            "- `region`: {region}\n- mutating: {}\n- recovery check by default (`verify`): {}\n- planning estimate: {}\n\n",
            if spec.mutating { "yes" } else { "no" },
            if spec.verification { "yes" } else { "no" },
            super::duration::format_duration(std::time::Duration::from_secs(spec.estimate_secs)),
        ));
        if spec.params.is_empty() {
            out.push_str("Parameters: none.\n\n");
        } else {
            out.push_str(
                "| parameter | type | required | default | meaning |\n|---|---|---|---|---|\n",
            );
            for p in spec.params {
                out.push_str(&format!(
                    "| `{}` | {} | {} | {} | {} |\n",
                    p.name,
                    p.ty.describe(),
                    if p.required { "yes" } else { "no" },
                    p.default.map_or("".to_string(), |d| format!("`{d}`")),
                    p.doc.replace('|', "\\|"),
                ));
            }
            out.push('\n');
        }
        if spec.outputs.is_empty() {
            out.push_str("Outputs: none.\n\n");
        } else {
            out.push_str("| output (`${steps.ID.NAME}`) | meaning |\n|---|---|\n");
            for o in spec.outputs {
                out.push_str(&format!(
                    "| `{}` | {} |\n",
                    o.name,
                    o.doc.replace('|', "\\|")
                ));
            }
            out.push('\n');
        }
    }
    out
}

/// The table of diagnostic codes.
pub fn codes_markdown() -> String {
    let mut out = String::from("| code | meaning |\n|---|---|\n");
    for code in Code::ALL {
        out.push_str(&format!(
            "| [{0}](#{1}) | {2} |\n",
            code.as_str(),
            code.as_str().to_lowercase(),
            code.title()
        ));
    }
    out
}
