//! Business hours: local weekly intervals, holidays, daylight-saving changes, validation and the
//! next opening/closing time.

use baton_flow::hours::{BusinessHours, DayHours, Holiday, HoursError, Weekday};
use proptest::prelude::*;

/// Milliseconds since the epoch of an RFC 3339 instant, e.g. "2026-03-27T08:00:00Z".
fn ms(instant: &str) -> i64 {
    instant
        .parse::<jiff::Timestamp>()
        .unwrap_or_else(|e| panic!("bad instant {instant}: {e}"))
        .as_millisecond()
}

fn iso(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms).unwrap().to_string()
}

fn interval(day: Weekday, open: &str, close: &str) -> DayHours {
    DayHours {
        day,
        open: open.to_string(),
        close: close.to_string(),
    }
}

fn holiday(date: &str) -> Holiday {
    Holiday {
        date: date.to_string(),
        name: None,
    }
}

/// Monday to Friday 09:00–17:00 in `timezone`.
fn office(timezone: &str) -> BusinessHours {
    BusinessHours {
        timezone: timezone.to_string(),
        weekly: [
            Weekday::Monday,
            Weekday::Tuesday,
            Weekday::Wednesday,
            Weekday::Thursday,
            Weekday::Friday,
        ]
        .into_iter()
        .map(|day| interval(day, "09:00", "17:00"))
        .collect(),
        holidays: vec![],
    }
}

fn madrid() -> BusinessHours {
    office("Europe/Madrid")
}

fn error_field(hours: &BusinessHours) -> String {
    match hours.validate() {
        Ok(()) => panic!("expected an error for {hours:?}"),
        Err(HoursError { field, .. }) => field,
    }
}

#[test]
fn the_dates_used_here_are_the_weekdays_the_tests_assume() {
    use jiff::civil::{date, Weekday as W};
    assert_eq!(date(2026, 3, 27).weekday(), W::Friday);
    assert_eq!(date(2026, 3, 29).weekday(), W::Sunday); // last Sunday of March: CET -> CEST
    assert_eq!(date(2026, 3, 30).weekday(), W::Monday);
    assert_eq!(date(2026, 10, 23).weekday(), W::Friday);
    assert_eq!(date(2026, 10, 25).weekday(), W::Sunday); // last Sunday of October: CEST -> CET
    assert_eq!(date(2026, 10, 26).weekday(), W::Monday);
    assert_eq!(date(2026, 12, 25).weekday(), W::Friday);
}

#[test]
fn madrid_weekdays_follow_daylight_saving_in_spring() {
    let hours = madrid();
    hours.validate().unwrap();
    // Friday 27 March 2026, winter time (UTC+1): 09:00 local is 08:00 UTC.
    assert!(!hours.is_open(ms("2026-03-27T07:59:59.999Z")));
    assert!(hours.is_open(ms("2026-03-27T08:00:00Z")));
    assert!(hours.is_open(ms("2026-03-27T15:59:59.999Z")));
    assert!(!hours.is_open(ms("2026-03-27T16:00:00Z")));
    // The weekend is closed, including the Sunday of the change.
    assert!(!hours.is_open(ms("2026-03-28T10:00:00Z")));
    assert!(!hours.is_open(ms("2026-03-29T10:00:00Z")));
    // Monday 30 March 2026, summer time (UTC+2): 09:00 local is 07:00 UTC.
    assert!(!hours.is_open(ms("2026-03-30T06:59:59.999Z")));
    assert!(hours.is_open(ms("2026-03-30T07:00:00Z")));
    assert!(hours.is_open(ms("2026-03-30T14:59:59.999Z")));
    assert!(!hours.is_open(ms("2026-03-30T15:00:00Z")));
}

#[test]
fn madrid_weekdays_follow_daylight_saving_in_autumn() {
    let hours = madrid();
    // Friday 23 October 2026, still summer time.
    assert!(!hours.is_open(ms("2026-10-23T06:59:59Z")));
    assert!(hours.is_open(ms("2026-10-23T07:00:00Z")));
    assert!(!hours.is_open(ms("2026-10-23T15:00:00Z")));
    // Monday 26 October 2026, winter time again.
    assert!(!hours.is_open(ms("2026-10-26T07:00:00Z")));
    assert!(!hours.is_open(ms("2026-10-26T07:59:59.999Z")));
    assert!(hours.is_open(ms("2026-10-26T08:00:00Z")));
    assert!(hours.is_open(ms("2026-10-26T15:59:59.999Z")));
    assert!(!hours.is_open(ms("2026-10-26T16:00:00Z")));
}

#[test]
fn a_holiday_closes_an_otherwise_open_day() {
    let mut hours = madrid();
    hours.holidays.push(Holiday {
        date: "2026-12-25".to_string(),
        name: Some("Navidad".to_string()),
    });
    hours.validate().unwrap();
    assert!(hours.is_open(ms("2026-12-24T10:00:00Z")));
    assert!(!hours.is_open(ms("2026-12-25T10:00:00Z")));
    assert!(hours.is_open(ms("2026-12-28T10:00:00Z")));
    // Without the holiday Friday the 25th is open.
    assert!(madrid().is_open(ms("2026-12-25T10:00:00Z")));
}

#[test]
fn holidays_are_local_dates() {
    // Open all day every day in New York (UTC-5 in December), closed on 25 December.
    let mut hours = BusinessHours::always_open();
    hours.timezone = "America/New_York".to_string();
    hours.holidays.push(holiday("2026-12-25"));
    hours.validate().unwrap();
    // 03:00 UTC on the 25th is still 22:00 on the 24th in New York.
    assert!(hours.is_open(ms("2026-12-25T03:00:00Z")));
    // 04:59 UTC on the 25th is 23:59 on the 24th; 05:00 UTC is local midnight of the holiday.
    assert!(hours.is_open(ms("2026-12-25T04:59:59.999Z")));
    assert!(!hours.is_open(ms("2026-12-25T05:00:00Z")));
    // 03:00 UTC on the 26th is 22:00 on the 25th: still the holiday.
    assert!(!hours.is_open(ms("2026-12-26T03:00:00Z")));
    assert!(!hours.is_open(ms("2026-12-26T04:59:59.999Z")));
    assert!(hours.is_open(ms("2026-12-26T05:00:00Z")));
    assert_eq!(
        hours.next_change(ms("2026-12-25T03:00:00Z")),
        Some(ms("2026-12-25T05:00:00Z"))
    );
    assert_eq!(
        hours.next_change(ms("2026-12-25T12:00:00Z")),
        Some(ms("2026-12-26T05:00:00Z"))
    );
}

#[test]
fn several_intervals_a_day_make_a_lunch_break() {
    let hours = BusinessHours {
        timezone: "UTC".to_string(),
        weekly: vec![
            interval(Weekday::Monday, "14:00", "18:00"),
            interval(Weekday::Monday, "09:00", "13:00"),
        ],
        holidays: vec![],
    };
    hours.validate().unwrap();
    // Monday 6 April 2026.
    assert!(!hours.is_open(ms("2026-04-06T08:59:59Z")));
    assert!(hours.is_open(ms("2026-04-06T09:00:00Z")));
    assert!(hours.is_open(ms("2026-04-06T12:59:59.999Z")));
    assert!(!hours.is_open(ms("2026-04-06T13:00:00Z")));
    assert!(!hours.is_open(ms("2026-04-06T13:30:00Z")));
    assert!(hours.is_open(ms("2026-04-06T14:00:00Z")));
    assert!(!hours.is_open(ms("2026-04-06T18:00:00Z")));
    assert_eq!(
        hours.next_change(ms("2026-04-06T10:00:00Z")),
        Some(ms("2026-04-06T13:00:00Z"))
    );
    assert_eq!(
        hours.next_change(ms("2026-04-06T13:00:00Z")),
        Some(ms("2026-04-06T14:00:00Z"))
    );
    assert_eq!(
        hours.next_change(ms("2026-04-06T14:00:00Z")),
        Some(ms("2026-04-06T18:00:00Z"))
    );
    // After Monday's close: next Monday's opening.
    assert_eq!(
        hours.next_change(ms("2026-04-06T18:00:00Z")),
        Some(ms("2026-04-13T09:00:00Z"))
    );
}

#[test]
fn close_at_24_00_is_midnight_and_the_close_instant_is_closed() {
    let hours = BusinessHours {
        timezone: "Europe/Madrid".to_string(),
        weekly: vec![interval(Weekday::Friday, "18:00", "24:00")],
        holidays: vec![],
    };
    hours.validate().unwrap();
    // Friday 15 May 2026, UTC+2: local midnight is 22:00 UTC.
    assert!(!hours.is_open(ms("2026-05-15T15:59:59.999Z")));
    assert!(hours.is_open(ms("2026-05-15T16:00:00Z")));
    assert!(hours.is_open(ms("2026-05-15T21:59:59.999Z")));
    assert!(!hours.is_open(ms("2026-05-15T22:00:00Z")));
    assert_eq!(
        hours.next_change(ms("2026-05-15T20:00:00Z")),
        Some(ms("2026-05-15T22:00:00Z"))
    );
}

#[test]
fn intervals_that_meet_at_midnight_do_not_close_in_between() {
    let hours = BusinessHours {
        timezone: "UTC".to_string(),
        weekly: vec![
            interval(Weekday::Friday, "18:00", "24:00"),
            interval(Weekday::Saturday, "00:00", "02:00"),
        ],
        holidays: vec![],
    };
    hours.validate().unwrap();
    assert!(hours.is_open(ms("2026-05-15T23:59:59.999Z")));
    assert!(hours.is_open(ms("2026-05-16T00:00:00Z")));
    assert!(!hours.is_open(ms("2026-05-16T02:00:00Z")));
    assert_eq!(
        hours.next_change(ms("2026-05-15T20:00:00Z")),
        Some(ms("2026-05-16T02:00:00Z"))
    );
}

#[test]
fn the_close_instant_of_a_half_open_interval_is_closed() {
    let hours = madrid();
    // Tuesday 12 May 2026, UTC+2: 17:00 local is 15:00 UTC.
    assert!(hours.is_open(ms("2026-05-12T14:59:59.999Z")));
    assert!(!hours.is_open(ms("2026-05-12T15:00:00Z")));
    // And the open instant is open.
    assert!(hours.is_open(ms("2026-05-12T07:00:00Z")));
}

#[test]
fn next_change_gives_the_next_opening_or_closing() {
    let hours = madrid();
    // Open on Tuesday morning: closes at 17:00 local (15:00 UTC).
    assert_eq!(
        hours.next_change(ms("2026-05-12T08:00:00Z")),
        Some(ms("2026-05-12T15:00:00Z"))
    );
    // Closed on Tuesday evening: opens Wednesday 09:00 local.
    assert_eq!(
        hours.next_change(ms("2026-05-12T15:00:00Z")),
        Some(ms("2026-05-13T07:00:00Z"))
    );
    // Closed on Tuesday before opening: opens the same morning.
    assert_eq!(
        hours.next_change(ms("2026-05-12T03:00:00Z")),
        Some(ms("2026-05-12T07:00:00Z"))
    );
    // Friday evening in winter time: opens Monday 09:00, which is in summer time by then.
    assert_eq!(
        hours.next_change(ms("2026-03-27T17:00:00Z")),
        Some(ms("2026-03-30T07:00:00Z"))
    );
    // Friday evening in summer time: opens Monday 09:00 in winter time.
    assert_eq!(
        hours.next_change(ms("2026-10-23T17:00:00Z")),
        Some(ms("2026-10-26T08:00:00Z"))
    );
    // Christmas on Friday: on Thursday evening the next opening is Monday.
    let mut with_holiday = madrid();
    with_holiday.holidays.push(holiday("2026-12-25"));
    assert_eq!(
        with_holiday.next_change(ms("2026-12-24T17:00:00Z")),
        Some(ms("2026-12-28T08:00:00Z"))
    );
}

#[test]
fn next_change_is_none_when_nothing_changes_within_14_days() {
    let now = ms("2026-05-12T08:00:00Z");
    assert_eq!(BusinessHours::always_open().next_change(now), None);
    let never = BusinessHours {
        timezone: "UTC".to_string(),
        weekly: vec![],
        holidays: vec![],
    };
    never.validate().unwrap();
    assert!(!never.is_open(now));
    assert_eq!(never.next_change(now), None);

    // Only Mondays, and the next two Mondays are holidays: the third is 20 days away.
    let mondays = BusinessHours {
        timezone: "UTC".to_string(),
        weekly: vec![interval(Weekday::Monday, "09:00", "17:00")],
        holidays: vec![holiday("2026-05-18"), holiday("2026-05-25")],
    };
    assert_eq!(mondays.next_change(now), None);
    // Exactly 14 days ahead still counts; a millisecond more does not.
    let tuesdays = BusinessHours {
        timezone: "UTC".to_string(),
        weekly: vec![interval(Weekday::Tuesday, "08:00", "17:00")],
        holidays: vec![holiday("2026-05-12"), holiday("2026-05-19")],
    };
    assert!(!tuesdays.is_open(now));
    assert_eq!(tuesdays.next_change(now), Some(ms("2026-05-26T08:00:00Z")));
    assert_eq!(tuesdays.next_change(now - 1), None);
}

#[test]
fn a_boundary_in_the_spring_gap_takes_effect_when_the_clocks_jump() {
    // Madrid, Sunday 29 March 2026: at 02:00 local (01:00 UTC) clocks jump to 03:00.
    let hours = BusinessHours {
        timezone: "Europe/Madrid".to_string(),
        weekly: vec![interval(Weekday::Sunday, "01:00", "02:30")],
        holidays: vec![],
    };
    assert!(!hours.is_open(ms("2026-03-28T23:59:59Z")));
    assert!(hours.is_open(ms("2026-03-29T00:00:00Z"))); // 01:00 CET
    assert!(hours.is_open(ms("2026-03-29T00:59:59.999Z"))); // 01:59:59.999 CET
    assert!(!hours.is_open(ms("2026-03-29T01:00:00Z"))); // 03:00 CEST
    assert_eq!(
        hours.next_change(ms("2026-03-28T20:00:00Z")),
        Some(ms("2026-03-29T00:00:00Z"))
    );
    assert_eq!(
        hours.next_change(ms("2026-03-29T00:30:00Z")),
        Some(ms("2026-03-29T01:00:00Z"))
    );
}

#[test]
fn a_wall_clock_time_that_happens_twice_counts_twice() {
    // Madrid, Sunday 25 October 2026: at 03:00 CEST (01:00 UTC) clocks go back to 02:00 CET.
    let hours = BusinessHours {
        timezone: "Europe/Madrid".to_string(),
        weekly: vec![interval(Weekday::Sunday, "02:00", "02:30")],
        holidays: vec![],
    };
    let first_open = ms("2026-10-25T00:00:00Z"); // 02:00 CEST
    let first_close = ms("2026-10-25T00:30:00Z"); // 02:30 CEST
    let second_open = ms("2026-10-25T01:00:00Z"); // 02:00 CET
    let second_close = ms("2026-10-25T01:30:00Z"); // 02:30 CET
    assert!(hours.is_open(first_open));
    assert!(!hours.is_open(first_close));
    assert!(hours.is_open(second_open));
    assert!(!hours.is_open(second_close));
    let mut chain = vec![];
    let mut now = ms("2026-10-24T12:00:00Z");
    for _ in 0..4 {
        now = hours.next_change(now).unwrap();
        chain.push(iso(now));
    }
    assert_eq!(chain, [first_open, first_close, second_open, second_close].map(iso));
}

#[test]
fn timezone_defaults_to_utc() {
    let hours: BusinessHours = serde_json::from_value(serde_json::json!({
        "weekly": [{ "day": "monday", "open": "09:00", "close": "17:00" }]
    }))
    .unwrap();
    assert_eq!(hours.timezone, "UTC");
    assert!(hours.holidays.is_empty());
    hours.validate().unwrap();
    assert!(hours.is_open(ms("2026-04-06T09:00:00Z")));
    assert!(!hours.is_open(ms("2026-04-06T08:59:59.999Z")));
    assert!(!hours.is_open(ms("2026-04-06T17:00:00Z")));
}

#[test]
fn always_open_is_24_7_in_utc() {
    let hours = BusinessHours::always_open();
    assert_eq!(hours.timezone, "UTC");
    hours.validate().unwrap();
    for instant in [
        "2026-01-01T00:00:00Z",
        "2026-03-29T01:30:00Z",
        "2026-06-14T23:59:59.999Z",
        "1970-01-01T00:00:00Z",
    ] {
        assert!(hours.is_open(ms(instant)), "{instant}");
    }
}

#[test]
fn json_shape_round_trips_and_rejects_unknown_fields() {
    let json = serde_json::json!({
        "timezone": "Europe/Madrid",
        "weekly": [
            { "day": "monday", "open": "09:00", "close": "14:00" },
            { "day": "monday", "open": "15:00", "close": "19:00" },
            { "day": "sunday", "open": "10:00", "close": "24:00" }
        ],
        "holidays": [{ "date": "2026-12-25", "name": "Navidad" }, { "date": "2027-01-01" }]
    });
    let hours: BusinessHours = serde_json::from_value(json.clone()).unwrap();
    hours.validate().unwrap();
    assert_eq!(hours.weekly[2].day, Weekday::Sunday);
    assert_eq!(hours.holidays[1].name, None);
    assert_eq!(serde_json::to_value(&hours).unwrap(), json);

    let unknown_field = serde_json::json!({ "weekly": [], "timezone": "UTC", "tz": "UTC" });
    assert!(serde_json::from_value::<BusinessHours>(unknown_field).is_err());
    let unknown_day = serde_json::json!({ "weekly": [{ "day": "mon", "open": "09:00", "close": "17:00" }] });
    assert!(serde_json::from_value::<BusinessHours>(unknown_day).is_err());
    let extra_in_day = serde_json::json!({
        "weekly": [{ "day": "monday", "open": "09:00", "close": "17:00", "note": "x" }]
    });
    assert!(serde_json::from_value::<BusinessHours>(extra_in_day).is_err());

    let schema = serde_json::to_value(schemars::schema_for!(BusinessHours)).unwrap();
    let text = schema.to_string();
    assert!(text.contains("\"monday\"") && text.contains("\"sunday\""), "{text}");
    assert!(text.contains("additionalProperties"), "{text}");
}

#[test]
fn invalid_hours_name_the_field() {
    let mut bad_zone = madrid();
    bad_zone.timezone = "Europe/Atlantis".to_string();
    assert_eq!(error_field(&bad_zone), "timezone");
    bad_zone.timezone = String::new();
    assert_eq!(error_field(&bad_zone), "timezone");
    bad_zone.timezone = "Etc/Unknown".to_string();
    assert_eq!(error_field(&bad_zone), "timezone");

    let with = |entries: Vec<DayHours>| BusinessHours {
        timezone: "UTC".to_string(),
        weekly: entries,
        holidays: vec![],
    };
    let ok = || interval(Weekday::Monday, "09:00", "12:00");

    for (open, close, field) in [
        ("9:00", "17:00", "weekly[1].open"),
        ("09:00am", "17:00", "weekly[1].open"),
        ("24:00", "24:00", "weekly[1].open"),
        ("12:60", "17:00", "weekly[1].open"),
        ("", "17:00", "weekly[1].open"),
        ("09:00", "25:00", "weekly[1].close"),
        ("09:00", "24:01", "weekly[1].close"),
        ("09:00", "17.00", "weekly[1].close"),
        ("09:00", "09:00", "weekly[1].close"),
        ("17:00", "09:00", "weekly[1].close"),
    ] {
        let hours = with(vec![ok(), interval(Weekday::Tuesday, open, close)]);
        let err = hours.validate().unwrap_err();
        assert_eq!(err.field, field, "{open}–{close}: {err}");
        assert!(err.to_string().starts_with(field), "{err}");
    }

    // Overlapping intervals on one day name the later one; touching intervals are fine, and so
    // are the same hours on different days.
    let overlap = with(vec![
        ok(),
        interval(Weekday::Tuesday, "09:00", "12:00"),
        interval(Weekday::Monday, "11:00", "14:00"),
    ]);
    let err = overlap.validate().unwrap_err();
    assert_eq!(err.field, "weekly[2].open", "{err}");
    assert!(err.message.contains("weekly[0]"), "{err}");
    let contained = with(vec![
        interval(Weekday::Monday, "08:00", "18:00"),
        interval(Weekday::Monday, "12:00", "13:00"),
    ]);
    assert_eq!(error_field(&contained), "weekly[1].open");
    let same_start = with(vec![
        interval(Weekday::Monday, "09:00", "10:00"),
        interval(Weekday::Monday, "09:00", "12:00"),
    ]);
    assert!(error_field(&same_start).starts_with("weekly["));
    let touching = with(vec![
        ok(),
        interval(Weekday::Monday, "12:00", "24:00"),
        interval(Weekday::Monday, "00:00", "09:00"),
    ]);
    touching.validate().unwrap();

    for (date, index) in [
        ("2026-02-30", 1),
        ("2026/12/25", 1),
        ("25-12-2026", 1),
        ("2026-13-01", 1),
        ("2026-12-25T00:00", 1),
        ("", 1),
    ] {
        let hours = BusinessHours {
            timezone: "UTC".to_string(),
            weekly: vec![ok()],
            holidays: vec![holiday("2026-12-25"), holiday(date)],
        };
        assert_eq!(error_field(&hours), format!("holidays[{index}].date"), "{date}");
    }
    let leap_day = BusinessHours {
        timezone: "UTC".to_string(),
        weekly: vec![ok()],
        holidays: vec![holiday("2028-02-29")],
    };
    leap_day.validate().unwrap();
}

#[test]
fn invalid_entries_are_ignored_when_asking() {
    // Hours that do not validate still answer without panicking: bad entries are left out and an
    // unknown zone reads as UTC.
    let hours = BusinessHours {
        timezone: "Nowhere/Special".to_string(),
        weekly: vec![
            interval(Weekday::Monday, "09:00", "17:00"),
            interval(Weekday::Monday, "late", "never"),
            interval(Weekday::Tuesday, "17:00", "09:00"),
        ],
        holidays: vec![holiday("someday")],
    };
    assert!(hours.validate().is_err());
    assert!(hours.is_open(ms("2026-04-06T09:00:00Z")));
    assert!(!hours.is_open(ms("2026-04-07T10:00:00Z")));
    assert_eq!(
        hours.next_change(ms("2026-04-06T09:00:00Z")),
        Some(ms("2026-04-06T17:00:00Z"))
    );
}

#[test]
fn times_outside_the_calendar_are_closed() {
    let hours = BusinessHours::always_open();
    assert!(!hours.is_open(i64::MAX));
    assert!(!hours.is_open(i64::MIN));
    assert_eq!(hours.next_change(i64::MAX), None);
    assert_eq!(madrid().next_change(i64::MIN), None);
}

const HUNDRED_YEARS_MS: i64 = 100 * 366 * 24 * 60 * 60 * 1000;

fn sample_hours() -> Vec<BusinessHours> {
    let mut with_holidays = madrid();
    with_holidays.holidays = vec![holiday("2026-12-25"), holiday("1999-01-01")];
    vec![
        madrid(),
        with_holidays,
        office("America/New_York"),
        office("Australia/Lord_Howe"), // a 30-minute DST shift
        office("Asia/Kathmandu"),      // a +05:45 offset
        office("America/Santiago"),    // DST changes at midnight
        BusinessHours::always_open(),
        BusinessHours {
            timezone: "Pacific/Apia".to_string(), // skipped a whole day in 2011
            weekly: vec![
                interval(Weekday::Friday, "00:00", "24:00"),
                interval(Weekday::Saturday, "00:00", "01:00"),
                interval(Weekday::Saturday, "02:00", "03:30"),
            ],
            holidays: vec![],
        },
    ]
}

fn arbitrary_hours() -> impl Strategy<Value = BusinessHours> {
    let time = prop_oneof![
        (0u16..=24, 0u16..60).prop_map(|(h, m)| format!("{h:02}:{m:02}")),
        any::<String>(),
        "[0-9:]{0,6}",
    ];
    let day = prop::sample::select(Weekday::ALL.to_vec());
    let entry = (day, time.clone(), time).prop_map(|(day, open, close)| DayHours { day, open, close });
    let date = prop_oneof![
        (1900i32..2100, 0u8..14, 0u8..33).prop_map(|(y, m, d)| format!("{y:04}-{m:02}-{d:02}")),
        any::<String>(),
        "[0-9-]{0,11}",
    ];
    let timezone = prop_oneof![
        prop::sample::select(vec![
            "UTC",
            "Europe/Madrid",
            "America/Santiago",
            "Australia/Lord_Howe",
            "Pacific/Apia",
            "europe/madrid",
            "Etc/Unknown",
        ])
        .prop_map(str::to_string),
        any::<String>(),
    ];
    (
        timezone,
        prop::collection::vec(entry, 0..8),
        prop::collection::vec(date, 0..4),
    )
        .prop_map(|(timezone, weekly, dates)| BusinessHours {
            timezone,
            weekly,
            holidays: dates.iter().map(|d| holiday(d)).collect(),
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn is_open_never_panics_within_a_century(now in -HUNDRED_YEARS_MS..=HUNDRED_YEARS_MS) {
        for hours in sample_hours() {
            let _ = hours.is_open(now);
        }
    }

    #[test]
    fn is_open_and_next_change_never_panic_for_any_i64(now in any::<i64>()) {
        for hours in sample_hours() {
            let _ = hours.is_open(now);
            let _ = hours.next_change(now);
        }
    }

    #[test]
    fn validate_never_panics_on_arbitrary_strings(hours in arbitrary_hours()) {
        let _ = hours.validate();
        let now = ms("2026-05-12T08:00:00Z");
        let _ = hours.is_open(now);
        let _ = hours.next_change(now);
    }

    /// The state holds until `next_change`, flips exactly there, and nothing changes within the
    /// horizon when there is none.
    #[test]
    fn next_change_is_where_is_open_flips(
        now in -HUNDRED_YEARS_MS..=HUNDRED_YEARS_MS,
        fractions in prop::collection::vec(0.0f64..1.0, 8),
    ) {
        for hours in sample_hours() {
            let open = hours.is_open(now);
            let change = hours.next_change(now);
            let until = match change {
                Some(at) => {
                    prop_assert!(at > now && at <= now + 14 * 86_400_000);
                    prop_assert_ne!(hours.is_open(at), open, "{:?} at {}", hours.timezone, iso(at));
                    prop_assert_eq!(hours.is_open(at - 1), open, "{:?} at {}", hours.timezone, iso(at));
                    at
                }
                None => now + 14 * 86_400_000 + 1,
            };
            for f in &fractions {
                let t = now + ((until - now) as f64 * f) as i64;
                if t < until {
                    prop_assert_eq!(hours.is_open(t), open, "{:?} now {} t {}", hours.timezone, iso(now), iso(t));
                }
            }
        }
    }
}

#[test]
fn a_skipped_day_is_never_open() {
    // Samoa skipped Friday 30 December 2011: Thursday 23:59:59 (UTC-10) was followed by
    // Saturday 00:00 (UTC+14).
    let hours = BusinessHours {
        timezone: "Pacific/Apia".to_string(),
        weekly: vec![
            interval(Weekday::Friday, "00:00", "24:00"),
            interval(Weekday::Saturday, "00:00", "01:00"),
        ],
        holidays: vec![],
    };
    let thursday_noon = ms("2011-12-29T22:00:00Z");
    assert!(!hours.is_open(thursday_noon));
    assert!(!hours.is_open(ms("2011-12-30T09:59:59.999Z")));
    assert!(hours.is_open(ms("2011-12-30T10:00:00Z")));
    assert_eq!(hours.next_change(thursday_noon), Some(ms("2011-12-30T10:00:00Z")));
    assert_eq!(
        hours.next_change(ms("2011-12-30T10:00:00Z")),
        Some(ms("2011-12-30T11:00:00Z"))
    );
}
