//! Schedule expressions as EventBridge and AWS Backup write them: `rate(N unit)` or
//! `cron(minutes hours day-of-month month day-of-week year)`. For drills only the shape is
//! checked here (EventBridge remains the judge, but a drill that would be rejected at deploy
//! time should be rejected by `drctl validate` first); for backup rules, [`schedule_gaps`]
//! says how far apart the runs are, which bounds the RPO a backup schedule can give.

use std::collections::BTreeSet;
use std::time::Duration;

use chrono::{Datelike, NaiveDate, Weekday};

/// Why a schedule expression was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ScheduleError {
    pub(crate) message: String,
    pub(crate) hint: String,
}

fn problem(message: impl Into<String>, hint: impl Into<String>) -> ScheduleError {
    ScheduleError {
        message: message.into(),
        hint: hint.into(),
    }
}

const EXAMPLES: &str =
    "use \"rate(30 days)\" or \"cron(0 6 1 * ? *)\" (06:00 UTC on the 1st of every month)";

pub(crate) fn check_schedule(expr: &str) -> Result<(), ScheduleError> {
    let fail = |message: String, hint: String| Err(ScheduleError { message, hint });
    let named = |e: ScheduleError| ScheduleError {
        message: format!("bad schedule `{expr}`: {}", e.message),
        hint: e.hint,
    };
    if let Some(body) = expr.strip_prefix("rate(").and_then(|r| r.strip_suffix(')')) {
        return check_rate(body).map_err(named);
    }
    if let Some(body) = expr.strip_prefix("cron(").and_then(|r| r.strip_suffix(')')) {
        return check_cron(body).map_err(named);
    }
    fail(
        format!("bad schedule `{expr}`: expected rate(...) or cron(...)"),
        EXAMPLES.into(),
    )
}

fn check_rate(body: &str) -> Result<(), ScheduleError> {
    let words: Vec<&str> = body.split(' ').collect();
    let hint = "write rate(VALUE UNIT) with a positive whole VALUE and UNIT minute(s), hour(s) or day(s), e.g. \"rate(30 days)\"".to_string();
    let [value, unit] = words[..] else {
        return Err(problem("a rate needs a value and a unit", hint));
    };
    let Ok(n) = value.parse::<u32>() else {
        return Err(problem(format!("`{value}` is not a whole number"), hint));
    };
    if n == 0 {
        return Err(problem("the rate must be at least 1", hint));
    }
    let singular = matches!(unit, "minute" | "hour" | "day");
    let plural = matches!(unit, "minutes" | "hours" | "days");
    if !singular && !plural {
        return Err(problem(format!("unknown unit `{unit}`"), hint));
    }
    if (n == 1) != singular {
        let fixed = if n == 1 {
            unit.trim_end_matches('s').to_string()
        } else {
            format!("{unit}s")
        };
        return Err(problem(
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

fn check_cron(body: &str) -> Result<(), ScheduleError> {
    let hint = "cron takes 6 fields: minutes hours day-of-month month day-of-week year, and one of day-of-month and day-of-week must be `?`, e.g. \"cron(0 6 1 * ? *)\"";
    let parts: Vec<&str> = body.split_whitespace().collect();
    if parts.len() != 6 {
        return Err(problem(
            format!("cron needs 6 fields, found {}", parts.len()),
            hint,
        ));
    }
    for (part, field) in parts.iter().zip(FIELDS.iter()) {
        check_field(part, field)
            .map_err(|why| problem(format!("{} field `{part}`: {why}", field.name), hint))?;
    }
    let (dom, dow) = (parts[2], parts[4]);
    if (dom == "?") == (dow == "?") {
        return Err(problem(
            "exactly one of day-of-month and day-of-week must be `?`",
            hint,
        ));
    }
    Ok(())
}

/// Why one cron field is wrong, in words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
struct FieldError(String);

fn check_field(text: &str, field: &Field) -> Result<(), FieldError> {
    if text == "?" {
        return if field.question {
            Ok(())
        } else {
            Err(FieldError(
                "`?` is only allowed in day-of-month and day-of-week".into(),
            ))
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

fn check_item(item: &str, field: &Field) -> Result<(), FieldError> {
    if item.is_empty() {
        return Err(FieldError("empty list item".into()));
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
            _ => Err(FieldError(format!("`#{nth}` must be #1 to #5"))),
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
            _ => {
                return Err(FieldError(format!(
                    "step `/{step}` must be a positive number"
                )));
            }
        }
    }
    if range == "*" {
        return if step.is_some() {
            Ok(())
        } else {
            Err(FieldError("`*` cannot be combined".into()))
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

fn value(text: &str, field: &Field) -> Result<u32, FieldError> {
    if let Some(i) = field
        .names
        .iter()
        .position(|n| n.eq_ignore_ascii_case(text))
    {
        return Ok(field.min + i as u32);
    }
    match text.parse::<u32>() {
        Ok(n) if (field.min..=field.max).contains(&n) => Ok(n),
        Ok(n) => Err(FieldError(format!(
            "{n} is outside {}-{}",
            field.min, field.max
        ))),
        Err(_) => Err(FieldError(format!("`{text}` is not a value of this field"))),
    }
}

/// The shortest and the longest gap between two consecutive runs of a schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScheduleGaps {
    pub shortest: Duration,
    pub longest: Duration,
}

/// How far apart the runs of `expr` are, over five years from 2026-01-01 (long enough for
/// monthly, yearly and leap-day schedules), with times taken as UTC. `None` when `expr` is
/// not a valid expression or runs fewer than twice in that span.
///
/// Every run is enumerated rather than derived from the fields, so irregular schedules
/// (`MON-FRI`, `L`, `#`) get their true longest gap: the figure that bounds an RPO.
pub fn schedule_gaps(expr: &str) -> Option<ScheduleGaps> {
    check_schedule(expr).ok()?;
    if let Some(body) = expr.strip_prefix("rate(").and_then(|r| r.strip_suffix(')')) {
        let (value, unit) = body.split_once(' ')?;
        let n: u64 = value.parse().ok()?;
        let unit_secs = match unit.trim_end_matches('s') {
            "minute" => 60,
            "hour" => 3600,
            _ => 86400,
        };
        let every = Duration::from_secs(n * unit_secs);
        return Some(ScheduleGaps {
            shortest: every,
            longest: every,
        });
    }
    let body = expr.strip_prefix("cron(")?.strip_suffix(')')?;
    let cron = Cron::parse(body)?;
    let start = NaiveDate::from_ymd_opt(2026, 1, 1)?;
    let mut previous: Option<i64> = None;
    let (mut shortest, mut longest) = (i64::MAX, 0i64);
    for day in start.iter_days().take(5 * 366) {
        if !cron.runs_on(day) {
            continue;
        }
        let midnight = day.and_hms_opt(0, 0, 0)?.and_utc().timestamp() / 60;
        for hour in &cron.hours {
            for minute in &cron.minutes {
                let at = midnight + i64::from(hour * 60 + minute);
                if let Some(before) = previous {
                    shortest = shortest.min(at - before);
                    longest = longest.max(at - before);
                }
                previous = Some(at);
            }
        }
    }
    (longest > 0).then(|| ScheduleGaps {
        shortest: Duration::from_secs(shortest as u64 * 60),
        longest: Duration::from_secs(longest as u64 * 60),
    })
}

/// A cron expression whose shape `check_cron` accepted, as sets of values.
struct Cron {
    minutes: BTreeSet<u32>,
    hours: BTreeSet<u32>,
    /// `None` for `?`.
    days: Option<Vec<DayItem>>,
    months: BTreeSet<u32>,
    /// `None` for `?`.
    weekdays: Option<Vec<DayItem>>,
    years: BTreeSet<u32>,
}

/// One item of the day-of-month or day-of-week field.
enum DayItem {
    /// Plain values (day of month 1-31, or day of week 1-7 = SUN-SAT).
    Values(BTreeSet<u32>),
    /// `L` in day-of-month: the last day of the month.
    LastDay,
    /// `LW`: the last weekday (Monday to Friday) of the month.
    LastWeekday,
    /// `15W`: the weekday nearest to the 15th, within the month.
    NearestWeekday(u32),
    /// `6L`: the last Friday (day 6) of the month.
    LastOf(u32),
    /// `2#1`: the first Monday (day 2) of the month.
    Nth(u32, u32),
}

impl Cron {
    fn parse(body: &str) -> Option<Cron> {
        let parts: Vec<&str> = body.split_whitespace().collect();
        let [minutes, hours, days, months, weekdays, years] = parts[..] else {
            return None;
        };
        Some(Cron {
            minutes: values(minutes, &FIELDS[0])?,
            hours: values(hours, &FIELDS[1])?,
            days: day_items(days, &FIELDS[2])?,
            months: values(months, &FIELDS[3])?,
            weekdays: day_items(weekdays, &FIELDS[4])?,
            years: values(years, &FIELDS[5])?,
        })
    }

    fn runs_on(&self, day: NaiveDate) -> bool {
        let year = u32::try_from(day.year()).unwrap_or(0);
        if !self.years.contains(&year) || !self.months.contains(&day.month()) {
            return false;
        }
        let last = last_day_of_month(day);
        let weekday = day.weekday().num_days_from_sunday() + 1;
        let matches = |items: &Vec<DayItem>, by_weekday: bool| {
            items.iter().any(|item| match item {
                DayItem::Values(set) if by_weekday => set.contains(&weekday),
                DayItem::Values(set) => set.contains(&day.day()),
                DayItem::LastDay if by_weekday => weekday == 7,
                DayItem::LastDay => day.day() == last,
                DayItem::LastWeekday => is_weekday(day) && last_weekday(day) == day.day(),
                DayItem::NearestWeekday(n) => nearest_weekday(day, *n) == Some(day.day()),
                DayItem::LastOf(d) => weekday == *d && day.day() + 7 > last,
                DayItem::Nth(d, n) => weekday == *d && (day.day() - 1) / 7 + 1 == *n,
            })
        };
        match (&self.days, &self.weekdays) {
            (Some(days), None) => matches(days, false),
            (None, Some(weekdays)) => matches(weekdays, true),
            (Some(days), Some(weekdays)) => matches(days, false) && matches(weekdays, true),
            (None, None) => true,
        }
    }
}

fn is_weekday(day: NaiveDate) -> bool {
    !matches!(day.weekday(), Weekday::Sat | Weekday::Sun)
}

fn last_day_of_month(day: NaiveDate) -> u32 {
    (28..=31)
        .rev()
        .find(|d| day.with_day(*d).is_some())
        .unwrap_or(28)
}

fn last_weekday(day: NaiveDate) -> u32 {
    (1..=last_day_of_month(day))
        .rev()
        .find(|d| day.with_day(*d).is_some_and(is_weekday))
        .unwrap_or(0)
}

/// The weekday nearest to day `n` of `day`'s month, never crossing into another month.
fn nearest_weekday(day: NaiveDate, n: u32) -> Option<u32> {
    let target = day.with_day(n.min(last_day_of_month(day)))?;
    let shifted = match target.weekday() {
        Weekday::Sat if target.day() == 1 => target.day() + 2,
        Weekday::Sat => target.day() - 1,
        Weekday::Sun if target.day() == last_day_of_month(day) => target.day() - 2,
        Weekday::Sun => target.day() + 1,
        _ => target.day(),
    };
    Some(shifted)
}

/// Every value a plain field (`*`, lists, ranges, steps, names) allows.
fn values(text: &str, field: &Field) -> Option<BTreeSet<u32>> {
    let mut set = BTreeSet::new();
    for item in text.split(',') {
        let (range, step) = match item.split_once('/') {
            Some((range, step)) => (range, step.parse::<u32>().ok()?),
            None => (item, 1),
        };
        let (from, to) = match range {
            "*" => (field.min, field.max),
            _ => match range.split_once('-') {
                Some((a, b)) => (value(a, field).ok()?, value(b, field).ok()?),
                // `5/15` means from 5 to the end of the field, every 15.
                None if item.contains('/') => (value(range, field).ok()?, field.max),
                None => {
                    let v = value(range, field).ok()?;
                    (v, v)
                }
            },
        };
        // A range may wrap around the end of the field (FRI-MON).
        let span = if to >= from {
            to - from
        } else {
            to + field.max + 1 - field.min - from
        };
        for offset in (0..=span).step_by(step.max(1) as usize) {
            let mut v = from + offset;
            if v > field.max {
                v -= field.max + 1 - field.min;
            }
            set.insert(v);
        }
    }
    Some(set)
}

/// The items of a day-of-month or day-of-week field; `Some(None)` for `?`.
fn day_items(text: &str, field: &Field) -> Option<Option<Vec<DayItem>>> {
    if text == "?" {
        return Some(None);
    }
    let mut items = Vec::new();
    for item in text.split(',') {
        items.push(match item {
            "L" => DayItem::LastDay,
            "LW" => DayItem::LastWeekday,
            _ if field.weekday && item.ends_with('W') => {
                DayItem::NearestWeekday(value(item.trim_end_matches('W'), field).ok()?)
            }
            _ if field.nth && item.contains('#') => {
                let (day, nth) = item.split_once('#')?;
                DayItem::Nth(value(day, field).ok()?, nth.parse().ok()?)
            }
            _ if field.nth && item.ends_with('L') => {
                DayItem::LastOf(value(item.trim_end_matches('L'), field).ok()?)
            }
            _ => DayItem::Values(values(item, field)?),
        });
    }
    Some(Some(items))
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

    fn gaps(expr: &str) -> (u64, u64) {
        let g = schedule_gaps(expr).unwrap_or_else(|| panic!("{expr} has no gaps"));
        (g.shortest.as_secs() / 60, g.longest.as_secs() / 60)
    }

    #[test]
    fn gaps_of_regular_schedules() {
        assert_eq!(gaps("cron(0 * ? * * *)"), (60, 60));
        assert_eq!(gaps("cron(0 5 ? * * *)"), (1440, 1440));
        assert_eq!(gaps("cron(0 0/12 ? * * *)"), (720, 720));
        assert_eq!(gaps("cron(0/15 * * * ? *)"), (15, 15));
        assert_eq!(gaps("rate(12 hours)"), (720, 720));
        assert_eq!(gaps("rate(1 day)"), (1440, 1440));
    }

    #[test]
    fn gaps_of_irregular_schedules_name_the_longest() {
        // Weekdays only: Friday 09:00 to Monday 09:00.
        assert_eq!(gaps("cron(0 9 ? * MON-FRI *)"), (1440, 3 * 1440));
        // Twice a day, unevenly.
        assert_eq!(gaps("cron(0 5,17 ? * * *)"), (720, 720));
        assert_eq!(gaps("cron(0 1,7 ? * * *)"), (360, 1080));
        // Last day of the month: 28 to 31 days apart.
        let (short, long) = gaps("cron(0 0 L * ? *)");
        assert_eq!((short / 1440, long / 1440), (28, 31));
        // First Monday of the month: 28 or 35 days apart.
        let (short, long) = gaps("cron(0 0 ? * MON#1 *)");
        assert_eq!((short / 1440, long / 1440), (28, 35));
        assert_eq!(gaps("cron(0 0 ? * SAT *)"), (7 * 1440, 7 * 1440));
        // A range that wraps around the week: Friday to Monday, then Monday to Friday.
        assert_eq!(gaps("cron(0 9 ? * FRI-MON *)"), (1440, 4 * 1440));
    }

    #[test]
    fn no_gaps_for_bad_or_one_off_schedules() {
        assert_eq!(schedule_gaps("daily"), None);
        assert_eq!(schedule_gaps("cron(0 6 1 1 ? 2026)"), None);
        assert_eq!(schedule_gaps("cron(0 6 1 1 ? 2020)"), None);
    }
}
