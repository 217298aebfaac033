//! Wall-clock timestamps for session files, in UTC, without a time-zone database.

use std::time::{SystemTime, UNIX_EPOCH};

/// (year, month, day) of the civil (proleptic Gregorian) date `days` days after 1970-01-01.
///
/// Shifts the epoch to 0000-03-01 so that leap days fall at the end of each 400-year era, then
/// reads the year of the era, the day of the year and the month from March (153-day cycles of
/// five months).
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097); // day of era, 0..146096
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365; // year of era, 0..399
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // day of year from March 1st, 0..365
    let mp = (5 * doy + 2) / 153; // month from March, 0..11
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// (year, month, day, hour, minute, second) in UTC of `seconds` since the Unix epoch.
pub fn utc_fields(seconds: i64) -> (i64, u32, u32, u32, u32, u32) {
    let (y, mo, d) = civil_from_days(seconds.div_euclid(86_400));
    let s = seconds.rem_euclid(86_400) as u32;
    (y, mo, d, s / 3600, s / 60 % 60, s % 60)
}

fn now_seconds() -> i64 {
    match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_secs() as i64,
        Err(e) => -(e.duration().as_secs() as i64),
    }
}

/// ISO 8601 UTC time of `seconds` since the epoch, e.g. `2025-11-26T18:13:05Z`.
pub fn iso8601(seconds: i64) -> String {
    let (y, mo, d, h, mi, s) = utc_fields(seconds);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
}

/// The current time as [`iso8601`].
pub fn now_iso8601() -> String {
    iso8601(now_seconds())
}

/// The current UTC time for file names, e.g. `20251126-181305`.
pub fn now_file_stamp() -> String {
    let (y, mo, d, h, mi, s) = utc_fields(now_seconds());
    format!("{y:04}{mo:02}{d:02}-{h:02}{mi:02}{s:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_dates() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00Z");
        assert_eq!(iso8601(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(iso8601(1_709_251_199), "2024-02-29T23:59:59Z");
        assert_eq!(iso8601(4_102_444_800), "2100-01-01T00:00:00Z");
        assert_eq!(iso8601(-1), "1969-12-31T23:59:59Z");
    }

    #[test]
    fn consecutive_days_are_consecutive_dates() {
        // Every day from 1900 to 2200 follows the previous one in the calendar.
        let mut prev = civil_from_days(-25_567); // 1900-01-01
        assert_eq!(prev, (1900, 1, 1));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        for day in -25_566..84_000 {
            let next = civil_from_days(day);
            let (y, m, d) = prev;
            let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
            let len = [
                31,
                if leap { 29 } else { 28 },
                31,
                30,
                31,
                30,
                31,
                31,
                30,
                31,
                30,
                31,
            ][(m - 1) as usize];
            let expected = if d < len {
                (y, m, d + 1)
            } else if m < 12 {
                (y, m + 1, 1)
            } else {
                (y + 1, 1, 1)
            };
            assert_eq!(next, expected, "day {day}");
            prev = next;
        }
    }
}
