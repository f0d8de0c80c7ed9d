//! Time: an injectable clock and the RFC 3339 millisecond format of CONTRACT §1.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

/// A source of "now" in Unix milliseconds; injected so tests can control time.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// Now, in Unix milliseconds.
    fn now_ms(&self) -> i64;
}

/// The system clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        let now = time::OffsetDateTime::now_utc();
        i64::try_from(now.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
    }
}

/// A clock that only moves when told to; for tests.
#[derive(Debug, Default)]
pub struct ManualClock(AtomicI64);

impl ManualClock {
    /// A clock standing at `unix_ms`.
    pub fn new(unix_ms: i64) -> Arc<ManualClock> {
        Arc::new(ManualClock(AtomicI64::new(unix_ms)))
    }

    /// Moves the clock forward.
    pub fn advance_ms(&self, ms: i64) {
        self.0.fetch_add(ms, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// Formats Unix milliseconds as `2023-05-12T15:18:09.613Z`.
///
/// Written digit by digit rather than through `format!`: every Heartbeat answer and
/// every JSON body carries timestamps, and the formatting machinery showed in the
/// server's profile (docs/benchmarks.md, fifth pass).
pub fn format_ms(unix_ms: i64) -> String {
    let nanos = i128::from(unix_ms) * 1_000_000;
    let Ok(t) = time::OffsetDateTime::from_unix_timestamp_nanos(nanos) else {
        return "1970-01-01T00:00:00.000Z".to_owned();
    };
    let (year, month, day) = t.to_calendar_date();
    let (hour, minute, second, milli) = t.to_hms_milli();
    let Ok(year @ 0..=9999) = u16::try_from(year) else {
        // Outside four digits (never a real timestamp here): the general path.
        return format!(
            "{year:04}-{:02}-{day:02}T{hour:02}:{minute:02}:{second:02}.{milli:03}Z",
            u8::from(month)
        );
    };
    let mut out = *b"0000-00-00T00:00:00.000Z";
    let mut put = |at: usize, width: usize, mut value: u16| {
        for slot in out[at..at + width].iter_mut().rev() {
            // A decimal digit: always below 10, so the cast is exact.
            *slot = b'0' + (value % 10) as u8;
            value /= 10;
        }
    };
    put(0, 4, year);
    put(5, 2, u16::from(u8::from(month)));
    put(8, 2, u16::from(day));
    put(11, 2, u16::from(hour));
    put(14, 2, u16::from(minute));
    put(17, 2, u16::from(second));
    put(20, 3, milli);
    out.iter().map(|&byte| char::from(byte)).collect()
}

/// Parses an RFC 3339 timestamp into Unix milliseconds.
pub fn parse_rfc3339_ms(text: &str) -> Option<i64> {
    let t =
        time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok()?;
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_have_milliseconds_and_z() {
        assert_eq!(format_ms(1_683_904_689_613), "2023-05-12T15:18:09.613Z");
        assert_eq!(format_ms(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(format_ms(951_782_400_007), "2000-02-29T00:00:00.007Z");
        assert_eq!(format_ms(253_402_300_799_999), "9999-12-31T23:59:59.999Z");
        assert_eq!(format_ms(-1), "1969-12-31T23:59:59.999Z");
    }

    #[test]
    fn the_digit_writer_agrees_with_the_general_formatter() {
        let general = |ms: i64| {
            let t = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
                .unwrap();
            format!(
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
                t.year(),
                u8::from(t.month()),
                t.day(),
                t.hour(),
                t.minute(),
                t.second(),
                t.millisecond()
            )
        };
        // Years before 0 (possible in `time`, never real here) take the general path.
        for ms in [-62_198_755_200_000, -100_000_000_000_000] {
            assert_eq!(format_ms(ms), general(ms));
        }
        let mut ms: i64 = 0;
        while ms < 4_102_444_800_000 {
            assert_eq!(format_ms(ms), general(ms));
            ms += 86_399_997;
        }
    }

    #[test]
    fn rfc3339_round_trips() {
        assert_eq!(
            parse_rfc3339_ms("2023-05-12T15:18:09.613Z"),
            Some(1_683_904_689_613)
        );
        assert_eq!(parse_rfc3339_ms("nope"), None);
    }
}
