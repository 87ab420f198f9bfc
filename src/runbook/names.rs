//! The shapes names must have: runbook and drill names, step ids, region and variable names,
//! and AWS region codes.

/// Runbook and drill names: `[a-z0-9-]+`. They end up in resource tags and file names.
pub(crate) fn is_runbook_name(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// Step ids: `[a-z0-9][a-z0-9_-]*`.
pub(crate) fn is_step_id(s: &str) -> bool {
    let mut bytes = s.bytes();
    matches!(bytes.next(), Some(b) if b.is_ascii_lowercase() || b.is_ascii_digit())
        && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

/// Names of regions and variables, referable as `${vars.NAME}`: `[A-Za-z0-9_-]+`.
pub(crate) fn is_ident(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Whether `s` is shaped like an AWS region code: `us-west-2`, `ap-southeast-1`,
/// `us-gov-west-1`, `eu-central-2`. The shape, not a list: new regions appear every year.
pub(crate) fn is_region_code(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    if !(3..=4).contains(&parts.len()) {
        return false;
    }
    let lower = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase());
    let last = parts[parts.len() - 1];
    parts[0].len() == 2
        && lower(parts[0])
        && parts[1..parts.len() - 1].iter().all(|p| lower(p))
        && (1..=2).contains(&last.len())
        && last.bytes().all(|b| b.is_ascii_digit())
}

/// Commercial regions, used only to suggest a fix for a mistyped code.
pub(crate) const KNOWN_REGIONS: &[&str] = &[
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "af-south-1",
    "ap-east-1",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ca-central-1",
    "ca-west-1",
    "eu-central-1",
    "eu-central-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "eu-north-1",
    "eu-south-1",
    "eu-south-2",
    "il-central-1",
    "me-central-1",
    "me-south-1",
    "mx-central-1",
    "sa-east-1",
    "us-gov-east-1",
    "us-gov-west-1",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_codes() {
        for ok in [
            "us-east-1",
            "us-west-2",
            "ap-southeast-4",
            "us-gov-west-1",
            "eu-central-2",
        ] {
            assert!(is_region_code(ok), "{ok}");
        }
        for bad in [
            "us-west",
            "uswest2",
            "US-WEST-2",
            "us-west-2a",
            "us_west_2",
            "",
            "u-west-2",
            "us--2",
        ] {
            assert!(!is_region_code(bad), "{bad}");
        }
        assert!(KNOWN_REGIONS.iter().all(|r| is_region_code(r)));
    }

    #[test]
    fn step_ids() {
        assert!(is_step_id("restore-qdrant"));
        assert!(is_step_id("0_a-b"));
        assert!(!is_step_id("-a"));
        assert!(!is_step_id("Restore"));
        assert!(!is_step_id(""));
        assert!(!is_step_id("a.b"));
    }
}
