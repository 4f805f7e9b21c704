//! Civil time in Italy, for what documents and reports print: Sigillo keeps
//! every time in UTC and renders dates in Europe/Rome. One copy, used by the
//! issuing side and the verifier alike.
//!
//! Italy follows the EU summer-time rule (Directive 2000/84/EC): UTC+2 from
//! 01:00 UTC on the last Sunday of March to 01:00 UTC on the last Sunday of
//! October, UTC+1 otherwise.

use time::macros::time;
use time::{Date, Month, OffsetDateTime, UtcOffset};

/// The Europe/Rome offset in force at `instant`.
pub fn offset_at(instant: OffsetDateTime) -> UtcOffset {
    let utc = instant.to_offset(UtcOffset::UTC);
    let year = utc.year();
    let start = last_sunday(year, Month::March)
        .with_time(time!(01:00))
        .assume_utc();
    let end = last_sunday(year, Month::October)
        .with_time(time!(01:00))
        .assume_utc();
    let hours = if utc >= start && utc < end { 2 } else { 1 };
    UtcOffset::from_hms(hours, 0, 0).unwrap_or(UtcOffset::UTC)
}

/// `instant` in Italian civil time.
pub fn local(instant: OffsetDateTime) -> OffsetDateTime {
    instant.to_offset(offset_at(instant))
}

/// The Italian civil date at `instant`, as certificates print it: `dd/mm/yyyy`.
pub fn date_text(instant: OffsetDateTime) -> String {
    day_text(local(instant).date())
}

/// The Italian civil date and time at `instant`: `dd/mm/yyyy alle hh:mm:ss`.
pub fn date_time_text(instant: OffsetDateTime) -> String {
    let local = local(instant);
    format!(
        "{} alle {:02}:{:02}:{:02}",
        day_text(local.date()),
        local.hour(),
        local.minute(),
        local.second()
    )
}

/// A calendar date as certificates print it: `dd/mm/yyyy`.
pub fn day_text(date: Date) -> String {
    format!(
        "{:02}/{:02}/{:04}",
        date.day(),
        u8::from(date.month()),
        date.year()
    )
}

fn last_sunday(year: i32, month: Month) -> Date {
    let days = month.length(year);
    let last = Date::from_calendar_date(year, month, days).unwrap_or(Date::MIN);
    let back = last.weekday().number_days_from_sunday();
    last - time::Duration::days(i64::from(back))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::Weekday;
    use time::macros::datetime;

    #[test]
    fn summer_and_winter_offsets_follow_the_eu_rule() {
        // 2026: summer time from 29 March 01:00 UTC to 25 October 01:00 UTC.
        assert_eq!(offset_at(datetime!(2026-03-29 00:59 UTC)).whole_hours(), 1);
        assert_eq!(offset_at(datetime!(2026-03-29 01:00 UTC)).whole_hours(), 2);
        assert_eq!(offset_at(datetime!(2026-10-25 00:59 UTC)).whole_hours(), 2);
        assert_eq!(offset_at(datetime!(2026-10-25 01:00 UTC)).whole_hours(), 1);
    }

    #[test]
    fn a_late_evening_in_utc_is_the_next_day_in_rome() {
        assert_eq!(date_text(datetime!(2026-06-30 22:30 UTC)), "01/07/2026");
        assert_eq!(date_text(datetime!(2026-12-31 22:59 UTC)), "31/12/2026");
        assert_eq!(date_text(datetime!(2026-12-31 23:00 UTC)), "01/01/2027");
    }

    #[test]
    fn last_sundays_are_sundays() {
        assert_eq!(last_sunday(2026, Month::March).weekday(), Weekday::Sunday);
        assert_eq!(last_sunday(2026, Month::March).day(), 29);
        assert_eq!(last_sunday(2027, Month::October).day(), 31);
    }
}
