//! Human durations: `500ms`, `90s`, `20m`, `1h30m`, `2d`. Integers with a unit, largest unit
//! first; no spaces, no decimals, so that `1.5h` or `20` fail loudly instead of guessing.

use std::time::Duration;

/// Why a duration string was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct DurationError {
    pub message: String,
    pub hint: String,
}

const UNITS: &[(&str, u64)] = &[
    ("d", 86_400_000),
    ("h", 3_600_000),
    ("m", 60_000),
    ("s", 1_000),
    ("ms", 1),
];

const UNITS_HINT: &str =
    "write an integer and a unit (ms, s, m, h, d), largest first, e.g. \"90s\", \"20m\", \"1h30m\"";

/// Parses a human duration.
pub fn parse_duration(text: &str) -> Result<Duration, DurationError> {
    let fail = |message: String, hint: &str| {
        Err(DurationError {
            message,
            hint: hint.to_owned(),
        })
    };
    if text.is_empty() {
        return fail("empty duration".into(), UNITS_HINT);
    }
    if text.contains(char::is_whitespace) {
        let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        let hint = match parse_duration(&compact) {
            Ok(_) => format!("write it without spaces: \"{compact}\""),
            Err(_) => UNITS_HINT.to_owned(),
        };
        return fail(format!("duration `{text}` contains spaces"), &hint);
    }
    let mut total: u64 = 0;
    let mut last_rank: Option<usize> = None;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            let hint = if rest.starts_with('-') {
                "durations cannot be negative"
            } else {
                UNITS_HINT
            };
            return fail(
                format!("duration `{text}` does not start with a number"),
                hint,
            );
        }
        let (number, after) = rest.split_at(digits);
        let unit_len = after.bytes().take_while(u8::is_ascii_alphabetic).count();
        let (unit, tail) = after.split_at(unit_len);
        if unit.is_empty() {
            if after.starts_with('.') || after.starts_with(',') {
                return fail(
                    format!("duration `{text}` has a fraction"),
                    "use whole numbers of a smaller unit, e.g. \"1h30m\" for an hour and a half, \"1500ms\"",
                );
            }
            if after.is_empty() {
                return fail(
                    format!("duration `{text}` has no unit"),
                    &format!("add a unit: \"{number}s\" or \"{number}m\""),
                );
            }
            return fail(format!("duration `{text}` is not a duration"), UNITS_HINT);
        }
        let Some(rank) = UNITS.iter().position(|(u, _)| *u == unit) else {
            let alias = match unit.to_ascii_lowercase().as_str() {
                "sec" | "secs" | "second" | "seconds" => Some("s"),
                "min" | "mins" | "minute" | "minutes" => Some("m"),
                "hr" | "hrs" | "hour" | "hours" => Some("h"),
                "day" | "days" => Some("d"),
                "msec" | "millis" | "milliseconds" => Some("ms"),
                _ => None,
            };
            let hint = match alias {
                Some(short) => {
                    format!("write the unit as `{short}`: \"{number}{short}\"; {UNITS_HINT}")
                }
                None => UNITS_HINT.to_owned(),
            };
            return fail(
                format!("duration `{text}` has an unknown unit `{unit}`"),
                &hint,
            );
        };
        if last_rank.is_some_and(|last| rank <= last) {
            return fail(
                format!("duration `{text}` repeats a unit or puts a smaller unit first"),
                UNITS_HINT,
            );
        }
        last_rank = Some(rank);
        let value: u64 = number.parse().map_err(|_| DurationError {
            message: format!("duration `{text}` is too long"),
            hint: "durations must be shorter than a few hundred years".into(),
        })?;
        total = value
            .checked_mul(UNITS[rank].1)
            .and_then(|ms| total.checked_add(ms))
            .ok_or_else(|| DurationError {
                message: format!("duration `{text}` is too long"),
                hint: "durations must be shorter than a few hundred years".into(),
            })?;
        rest = tail;
    }
    Ok(Duration::from_millis(total))
}

/// Formats a duration the way runbooks spell them: `1h30m`, `500ms`, `0s`.
pub fn format_duration(d: Duration) -> String {
    let mut ms = u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
    if ms == 0 {
        return "0s".into();
    }
    let mut out = String::new();
    for (unit, size) in UNITS {
        if ms >= *size {
            out.push_str(&format!("{}{unit}", ms / size));
            ms %= size;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_forms() {
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("20m"), Ok(Duration::from_secs(1200)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("1d2h"), Ok(Duration::from_secs(93_600)));
        assert_eq!(parse_duration("0s"), Ok(Duration::ZERO));
    }

    #[test]
    fn rejects_with_a_hint() {
        for bad in [
            "",
            "20",
            "1.5h",
            "20min",
            "m",
            "-5s",
            "30m1h",
            "5s5s",
            " 5s",
            "5 s",
            "99999999999999999999s",
        ] {
            let err = parse_duration(bad).unwrap_err();
            assert!(!err.hint.is_empty(), "{bad}");
        }
        assert!(parse_duration("20").unwrap_err().hint.contains("\"20s\""));
    }

    #[test]
    fn formats_round_trip() {
        for text in ["1h30m", "500ms", "90s", "2d", "1m1s1ms", "0s"] {
            let d = parse_duration(text).unwrap();
            assert_eq!(parse_duration(&format_duration(d)), Ok(d));
        }
        assert_eq!(format_duration(Duration::from_secs(90)), "1m30s");
    }
}
