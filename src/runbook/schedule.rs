//! Drill schedules as EventBridge Scheduler expressions: `rate(N unit)` or
//! `cron(minutes hours day-of-month month day-of-week year)`. Only the shape is checked here;
//! EventBridge remains the judge, but a drill that would be rejected at deploy time should be
//! rejected by `drctl validate` first.

/// Why a schedule expression was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ScheduleError {
    pub(crate) message: String,
    pub(crate) hint: String,
}

const EXAMPLES: &str =
    "use \"rate(30 days)\" or \"cron(0 6 1 * ? *)\" (06:00 UTC on the 1st of every month)";

pub(crate) fn check_schedule(expr: &str) -> Result<(), ScheduleError> {
    let fail = |message: String, hint: String| Err(ScheduleError { message, hint });
    if let Some(body) = expr.strip_prefix("rate(").and_then(|r| r.strip_suffix(')')) {
        return check_rate(body)
            .or_else(|hint| fail(format!("bad schedule `{expr}`: {}", hint.0), hint.1));
    }
    if let Some(body) = expr.strip_prefix("cron(").and_then(|r| r.strip_suffix(')')) {
        return check_cron(body)
            .or_else(|hint| fail(format!("bad schedule `{expr}`: {}", hint.0), hint.1));
    }
    fail(
        format!("bad schedule `{expr}`: expected rate(...) or cron(...)"),
        EXAMPLES.into(),
    )
}

fn check_rate(body: &str) -> Result<(), (String, String)> {
    let words: Vec<&str> = body.split(' ').collect();
    let hint = "write rate(VALUE UNIT) with a positive whole VALUE and UNIT minute(s), hour(s) or day(s), e.g. \"rate(30 days)\"".to_string();
    let [value, unit] = words[..] else {
        return Err(("a rate needs a value and a unit".into(), hint));
    };
    let Ok(n) = value.parse::<u32>() else {
        return Err((format!("`{value}` is not a whole number"), hint));
    };
    if n == 0 {
        return Err(("the rate must be at least 1".into(), hint));
    }
    let singular = matches!(unit, "minute" | "hour" | "day");
    let plural = matches!(unit, "minutes" | "hours" | "days");
    if !singular && !plural {
        return Err((format!("unknown unit `{unit}`"), hint));
    }
    if (n == 1) != singular {
        let fixed = if n == 1 {
            unit.trim_end_matches('s').to_string()
        } else {
            format!("{unit}s")
        };
        return Err((
            format!("EventBridge wants `{fixed}` with the value {n}"),
            format!("write \"rate({n} {fixed})\""),
        ));
    }
    Ok(())
}

struct Field {
    name: &'static str,
    min: u32,
    max: u32,
    names: &'static [&'static str],
    /// Extra characters the field allows: `?`, `L`, `W`, `#`.
    question: bool,
    last: bool,
    weekday: bool,
    nth: bool,
}

const FIELDS: [Field; 6] = [
    Field {
        name: "minutes",
        min: 0,
        max: 59,
        names: &[],
        question: false,
        last: false,
        weekday: false,
        nth: false,
    },
    Field {
        name: "hours",
        min: 0,
        max: 23,
        names: &[],
        question: false,
        last: false,
        weekday: false,
        nth: false,
    },
    Field {
        name: "day-of-month",
        min: 1,
        max: 31,
        names: &[],
        question: true,
        last: true,
        weekday: true,
        nth: false,
    },
    Field {
        name: "month",
        min: 1,
        max: 12,
        names: &[
            "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
        ],
        question: false,
        last: false,
        weekday: false,
        nth: false,
    },
    Field {
        name: "day-of-week",
        min: 1,
        max: 7,
        names: &["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"],
        question: true,
        last: true,
        weekday: false,
        nth: true,
    },
    Field {
        name: "year",
        min: 1970,
        max: 2199,
        names: &[],
        question: false,
        last: false,
        weekday: false,
        nth: false,
    },
];

fn check_cron(body: &str) -> Result<(), (String, String)> {
    let hint = "cron takes 6 fields: minutes hours day-of-month month day-of-week year, and one of day-of-month and day-of-week must be `?`, e.g. \"cron(0 6 1 * ? *)\"";
    let parts: Vec<&str> = body.split_whitespace().collect();
    if parts.len() != 6 {
        return Err((
            format!("cron needs 6 fields, found {}", parts.len()),
            hint.into(),
        ));
    }
    for (part, field) in parts.iter().zip(FIELDS.iter()) {
        check_field(part, field).map_err(|why| {
            (
                format!("{} field `{part}`: {why}", field.name),
                hint.to_string(),
            )
        })?;
    }
    let (dom, dow) = (parts[2], parts[4]);
    if (dom == "?") == (dow == "?") {
        return Err((
            "exactly one of day-of-month and day-of-week must be `?`".into(),
            hint.into(),
        ));
    }
    Ok(())
}

fn check_field(text: &str, field: &Field) -> Result<(), String> {
    if text == "?" {
        return if field.question {
            Ok(())
        } else {
            Err("`?` is only allowed in day-of-month and day-of-week".into())
        };
    }
    if text == "*" {
        return Ok(());
    }
    for item in text.split(',') {
        check_item(item, field)?;
    }
    Ok(())
}

fn check_item(item: &str, field: &Field) -> Result<(), String> {
    if item.is_empty() {
        return Err("empty list item".into());
    }
    if field.last && item == "L" {
        return Ok(());
    }
    if field.weekday && item == "LW" {
        return Ok(());
    }
    if field.weekday
        && let Some(day) = item.strip_suffix('W')
    {
        return value(day, field).map(|_| ());
    }
    if field.nth
        && let Some((day, nth)) = item.split_once('#')
    {
        value(day, field)?;
        return match nth.parse::<u32>() {
            Ok(1..=5) => Ok(()),
            _ => Err(format!("`#{nth}` must be #1 to #5")),
        };
    }
    if field.nth
        && field.last
        && let Some(day) = item.strip_suffix('L')
    {
        return value(day, field).map(|_| ());
    }
    let (range, step) = match item.split_once('/') {
        Some((range, step)) => (range, Some(step)),
        None => (item, None),
    };
    if let Some(step) = step {
        match step.parse::<u32>() {
            Ok(n) if n >= 1 => {}
            _ => return Err(format!("step `/{step}` must be a positive number")),
        }
    }
    if range == "*" {
        return if step.is_some() {
            Ok(())
        } else {
            Err("`*` cannot be combined".into())
        };
    }
    match range.split_once('-') {
        Some((a, b)) => {
            value(a, field)?;
            value(b, field)?;
        }
        None => {
            value(range, field)?;
        }
    }
    Ok(())
}

fn value(text: &str, field: &Field) -> Result<u32, String> {
    if let Some(i) = field
        .names
        .iter()
        .position(|n| n.eq_ignore_ascii_case(text))
    {
        return Ok(field.min + i as u32);
    }
    match text.parse::<u32>() {
        Ok(n) if (field.min..=field.max).contains(&n) => Ok(n),
        Ok(n) => Err(format!("{n} is outside {}-{}", field.min, field.max)),
        Err(_) => Err(format!("`{text}` is not a value of this field")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_eventbridge_expressions() {
        for ok in [
            "rate(1 day)",
            "rate(30 days)",
            "rate(5 minutes)",
            "cron(0 6 1 * ? *)",
            "cron(0 6 1 1,4,7,10 ? *)",
            "cron(0 6 ? JAN MON#1 *)",
            "cron(0/15 * * * ? *)",
            "cron(0 18 ? * MON-FRI *)",
            "cron(0 8 L * ? 2026-2030)",
            "cron(0 8 15W * ? *)",
            "cron(0 8 ? * 6L *)",
        ] {
            assert_eq!(check_schedule(ok), Ok(()), "{ok}");
        }
    }

    #[test]
    fn rejects_with_reasons() {
        for bad in [
            "",
            "daily",
            "rate(1 days)",
            "rate(2 day)",
            "rate(0 days)",
            "rate(days)",
            "rate(1 week)",
            "cron(0 6 1 * *)",
            "cron(0 6 1 * * *)",
            "cron(0 6 ? * ? *)",
            "cron(60 6 1 * ? *)",
            "cron(0 24 1 * ? *)",
            "cron(0 6 32 * ? *)",
            "cron(0 6 1 13 ? *)",
            "cron(0 6 ? * MON#9 *)",
            "cron(0 6 1 * ? 1900)",
            "cron(0 6 1,,2 * ? *)",
            "cron(0 6 1 * ? *",
        ] {
            assert!(check_schedule(bad).is_err(), "{bad}");
        }
    }
}
