//! Business hours: when a team (or the workspace) is open, for the `handover` node's `off_hours`
//! port, the `branch` node's "business hours open" condition and messages such as "we open at
//! 9:00".
//!
//! Pure like the rest of this crate: the caller passes the time (milliseconds since the Unix
//! epoch) and nothing here reads a clock. Time zones come from the IANA database bundled into
//! the binary (via `jiff`), so no `/usr/share/zoneinfo` is needed and the answer does not depend
//! on the machine.
//!
//! Semantics:
//! - Weekly intervals are in the team's local wall-clock time and half-open: `09:00`–`17:30`
//!   is open from 09:00:00.000 up to, not including, 17:30:00.000. `24:00` closes at midnight.
//! - Days not listed are closed; a day may have several intervals (a lunch break).
//! - Holidays close the whole *local* date.
//! - Daylight-saving changes follow the time zone: 09:00 in Madrid is 08:00 UTC in winter and
//!   07:00 UTC in summer. An interval boundary that falls in a gap (a wall-clock time that does
//!   not exist that day) takes effect when the clocks jump over it; in a fold (a wall-clock time
//!   that happens twice) each occurrence counts.
//! - [`BusinessHours::is_open`] and [`BusinessHours::next_change`] never panic. On hours that do
//!   not [validate](BusinessHours::validate) they ignore the invalid entries and read an unknown
//!   time zone as UTC; callers should validate when the hours are saved.

use jiff::civil::{Date, DateTime, Time};
use jiff::tz::TimeZone;
use jiff::Timestamp;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Minutes in a day; `24:00` as a close time.
const DAY_MINUTES: u16 = 24 * 60;
/// How far [`BusinessHours::next_change`] looks ahead.
pub const NEXT_CHANGE_HORIZON_MS: i64 = 14 * 24 * 60 * 60 * 1000;

/// A team's (or the workspace's) opening hours.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BusinessHours {
    /// IANA time zone name, e.g. "Europe/Madrid". Default "UTC".
    #[serde(default = "default_timezone")]
    pub timezone: String,
    /// Opening intervals per weekday, in local time. Days not listed are closed; a day may have
    /// several intervals (e.g. a lunch break), which must not overlap.
    pub weekly: Vec<DayHours>,
    /// Dates (local) on which the team is closed all day.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub holidays: Vec<Holiday>,
}

fn default_timezone() -> String {
    "UTC".to_string()
}

/// One opening interval on a weekday: open from `open` up to, not including, `close`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DayHours {
    pub day: Weekday,
    /// Local opening time, "HH:MM" (00:00–23:59).
    pub open: String,
    /// Local closing time, "HH:MM" (00:01–24:00), later than `open`. "24:00" is midnight at the
    /// end of the day.
    pub close: String,
}

/// A local date on which the team is closed all day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Holiday {
    /// "YYYY-MM-DD", e.g. "2026-12-25".
    pub date: String,
    /// What people call it, e.g. "Christmas".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// A day of the week.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Weekday {
    Monday,
    Tuesday,
    Wednesday,
    Thursday,
    Friday,
    Saturday,
    Sunday,
}

impl Weekday {
    pub const ALL: [Weekday; 7] = [
        Weekday::Monday,
        Weekday::Tuesday,
        Weekday::Wednesday,
        Weekday::Thursday,
        Weekday::Friday,
        Weekday::Saturday,
        Weekday::Sunday,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Weekday::Monday => "monday",
            Weekday::Tuesday => "tuesday",
            Weekday::Wednesday => "wednesday",
            Weekday::Thursday => "thursday",
            Weekday::Friday => "friday",
            Weekday::Saturday => "saturday",
            Weekday::Sunday => "sunday",
        }
    }

    /// Monday is 0, Sunday is 6.
    fn index(self) -> usize {
        match self {
            Weekday::Monday => 0,
            Weekday::Tuesday => 1,
            Weekday::Wednesday => 2,
            Weekday::Thursday => 3,
            Weekday::Friday => 4,
            Weekday::Saturday => 5,
            Weekday::Sunday => 6,
        }
    }
}

impl fmt::Display for Weekday {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What is wrong with a [`BusinessHours`], and where: `field` is a path such as
/// `weekly[2].close`, `holidays[0].date` or `timezone`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct HoursError {
    pub field: String,
    pub message: String,
}

impl HoursError {
    fn new(field: impl Into<String>, message: impl Into<String>) -> HoursError {
        HoursError {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl BusinessHours {
    /// Open all the time: every day 00:00–24:00, in UTC, no holidays.
    pub fn always_open() -> BusinessHours {
        BusinessHours {
            timezone: default_timezone(),
            weekly: Weekday::ALL
                .iter()
                .map(|&day| DayHours {
                    day,
                    open: "00:00".to_string(),
                    close: "24:00".to_string(),
                })
                .collect(),
            holidays: Vec::new(),
        }
    }

    /// Checks the hours and returns the first problem found: an unknown time zone, a time that
    /// is not "HH:MM", a close not after its open, overlapping intervals on one day, or a holiday
    /// date that is not a real "YYYY-MM-DD" date.
    pub fn validate(&self) -> Result<(), HoursError> {
        match TimeZone::get(&self.timezone) {
            Ok(tz) if !tz.is_unknown() => {}
            _ => {
                return Err(HoursError::new(
                    "timezone",
                    format!(
                        "unknown time zone {}; use an IANA name such as \"Europe/Madrid\" or \"UTC\"",
                        quote(&self.timezone)
                    ),
                ))
            }
        }

        let mut per_day: [Vec<(u16, u16, usize)>; 7] = Default::default();
        for (i, entry) in self.weekly.iter().enumerate() {
            let open = parse_hhmm(&entry.open).filter(|&m| m < DAY_MINUTES).ok_or_else(|| {
                HoursError::new(
                    format!("weekly[{i}].open"),
                    format!(
                        "{} is not an opening time \"HH:MM\" between 00:00 and 23:59",
                        quote(&entry.open)
                    ),
                )
            })?;
            let close = parse_hhmm(&entry.close).ok_or_else(|| {
                HoursError::new(
                    format!("weekly[{i}].close"),
                    format!(
                        "{} is not a closing time \"HH:MM\" between 00:01 and 24:00",
                        quote(&entry.close)
                    ),
                )
            })?;
            if close <= open {
                return Err(HoursError::new(
                    format!("weekly[{i}].close"),
                    format!(
                        "closes at {} but opens at {}: the close must be later than the open \
                         (use \"24:00\" for midnight)",
                        entry.close, entry.open
                    ),
                ));
            }
            per_day[entry.day.index()].push((open, close, i));
        }

        for (day_index, intervals) in per_day.iter_mut().enumerate() {
            intervals.sort_unstable();
            // The interval reaching furthest so far: (close, index).
            let mut reach: Option<(u16, usize)> = None;
            for &(open, close, i) in intervals.iter() {
                if let Some((reach_close, j)) = reach {
                    if open < reach_close {
                        let day = Weekday::ALL[day_index];
                        return Err(HoursError::new(
                            format!("weekly[{i}].open"),
                            format!(
                                "{day} {}–{} overlaps weekly[{j}] ({}–{})",
                                self.weekly[i].open, self.weekly[i].close, self.weekly[j].open, self.weekly[j].close
                            ),
                        ));
                    }
                }
                if reach.is_none_or(|(reach_close, _)| close > reach_close) {
                    reach = Some((close, i));
                }
            }
        }

        for (i, holiday) in self.holidays.iter().enumerate() {
            if parse_date(&holiday.date).is_none() {
                return Err(HoursError::new(
                    format!("holidays[{i}].date"),
                    format!(
                        "{} is not a date \"YYYY-MM-DD\", e.g. \"2026-12-25\"",
                        quote(&holiday.date)
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Whether the team is open at `now_ms` (milliseconds since the Unix epoch).
    pub fn is_open(&self, now_ms: i64) -> bool {
        match Timestamp::from_millisecond(now_ms) {
            Ok(now) => Schedule::new(self).is_open_at(now),
            Err(_) => false,
        }
    }

    /// When the team next opens (if closed at `now_ms`) or closes (if open), in milliseconds
    /// since the Unix epoch: the first instant after `now_ms`, at most
    /// [`NEXT_CHANGE_HORIZON_MS`] (14 days) later, at which [`Self::is_open`] differs from its
    /// value at `now_ms`. `None` when nothing changes within that horizon (e.g. always open,
    /// or no hours at all).
    pub fn next_change(&self, now_ms: i64) -> Option<i64> {
        let now = Timestamp::from_millisecond(now_ms).ok()?;
        let horizon_ms = now_ms.saturating_add(NEXT_CHANGE_HORIZON_MS);
        let schedule = Schedule::new(self);
        let open_now = schedule.is_open_at(now);

        // Every instant at which the state may change: each interval boundary on the local days
        // around the horizon (both readings of a wall-clock time that happens twice), and each
        // time zone transition (which is where a boundary inside a gap takes effect). Between
        // two consecutive candidates the state is constant, so the first candidate whose state
        // differs from now's is the next change.
        let mut candidates: Vec<i64> = Vec::new();
        let mut day = schedule.tz.to_datetime(now).date().yesterday().ok();
        for _ in 0..17 {
            let Some(date) = day else { break };
            for &(open, close) in &schedule.days[weekday_index(date)] {
                for minutes in [open, close] {
                    if let Some(dt) = local_datetime(date, minutes) {
                        let ambiguous = schedule.tz.to_ambiguous_timestamp(dt);
                        for ts in [ambiguous.earlier(), ambiguous.later()].into_iter().flatten() {
                            candidates.push(ts.as_millisecond());
                        }
                    }
                }
            }
            day = date.tomorrow().ok();
        }
        for transition in schedule.tz.following(now).take(64) {
            let ms = transition.timestamp().as_millisecond();
            if ms > horizon_ms {
                break;
            }
            candidates.push(ms);
        }

        candidates.retain(|&ms| ms > now_ms && ms <= horizon_ms);
        candidates.sort_unstable();
        candidates.dedup();
        candidates
            .into_iter()
            .find(|&ms| Timestamp::from_millisecond(ms).is_ok_and(|ts| schedule.is_open_at(ts) != open_now))
    }
}

/// The hours in a form that is quick to ask, built leniently: invalid entries are left out and an
/// unknown time zone is read as UTC.
struct Schedule {
    tz: TimeZone,
    /// Monday first: `[open, close)` in minutes of the local day.
    days: [Vec<(u16, u16)>; 7],
    holidays: Vec<Date>,
}

impl Schedule {
    fn new(hours: &BusinessHours) -> Schedule {
        let tz = TimeZone::get(&hours.timezone).unwrap_or(TimeZone::UTC);
        let mut days: [Vec<(u16, u16)>; 7] = Default::default();
        for entry in &hours.weekly {
            if let (Some(open), Some(close)) = (parse_hhmm(&entry.open), parse_hhmm(&entry.close)) {
                if open < close {
                    days[entry.day.index()].push((open, close));
                }
            }
        }
        let mut holidays: Vec<Date> = hours.holidays.iter().filter_map(|h| parse_date(&h.date)).collect();
        holidays.sort_unstable();
        holidays.dedup();
        Schedule { tz, days, holidays }
    }

    fn is_open_at(&self, ts: Timestamp) -> bool {
        let local = self.tz.to_datetime(ts);
        let date = local.date();
        if self.holidays.binary_search(&date).is_ok() {
            return false;
        }
        // Boundaries are whole minutes, so the minute of the day decides (half-open intervals).
        let minute = u16::try_from(i32::from(local.hour()) * 60 + i32::from(local.minute())).unwrap_or(u16::MAX);
        self.days[weekday_index(date)]
            .iter()
            .any(|&(open, close)| open <= minute && minute < close)
    }
}

fn weekday_index(date: Date) -> usize {
    usize::try_from(date.weekday().to_monday_zero_offset()).unwrap_or(0) % 7
}

/// The local date-time `minutes` after the start of `date` (`1440` is the next day's midnight).
fn local_datetime(date: Date, minutes: u16) -> Option<DateTime> {
    if minutes >= DAY_MINUTES {
        return Some(date.tomorrow().ok()?.to_datetime(Time::midnight()));
    }
    let hour = i8::try_from(minutes / 60).ok()?;
    let minute = i8::try_from(minutes % 60).ok()?;
    Some(date.to_datetime(Time::new(hour, minute, 0, 0).ok()?))
}

/// "HH:MM" (exactly two digits each) to minutes of the day, `00:00`..=`24:00`.
fn parse_hhmm(s: &str) -> Option<u16> {
    let b = s.as_bytes();
    if b.len() != 5 || b[2] != b':' {
        return None;
    }
    let hours = two_digits(b[0], b[1])?;
    let minutes = two_digits(b[3], b[4])?;
    if minutes > 59 || hours > 24 || (hours == 24 && minutes != 0) {
        return None;
    }
    Some(hours * 60 + minutes)
}

fn two_digits(a: u8, b: u8) -> Option<u16> {
    if a.is_ascii_digit() && b.is_ascii_digit() {
        Some(u16::from(a - b'0') * 10 + u16::from(b - b'0'))
    } else {
        None
    }
}

/// "YYYY-MM-DD" to a real calendar date.
fn parse_date(s: &str) -> Option<Date> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let year = i16::try_from(two_digits(b[0], b[1])? * 100 + two_digits(b[2], b[3])?).ok()?;
    let month = i8::try_from(two_digits(b[5], b[6])?).ok()?;
    let day = i8::try_from(two_digits(b[8], b[9])?).ok()?;
    if year < 1 {
        return None;
    }
    Date::new(year, month, day).ok()
}

/// The value as a JSON string, shortened if it is long, for error messages.
fn quote(s: &str) -> String {
    const MAX_CHARS: usize = 40;
    if s.chars().count() > MAX_CHARS {
        let head: String = s.chars().take(MAX_CHARS).collect();
        format!("{}…", serde_json::Value::String(head))
    } else {
        serde_json::Value::String(s.to_string()).to_string()
    }
}
