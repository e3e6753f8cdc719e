//! Date search: FHIR date, dateTime and instant values as time ranges (a value stands for the
//! whole interval its precision implies: `2024-05` is all of May), and the comparison prefixes.

use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

/// A half-open interval `[low, high)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Range {
    pub low: OffsetDateTime,
    pub high: OffsetDateTime,
}

impl Range {
    /// A range unbounded on both sides (used for a Period's missing start or end).
    pub(crate) fn min() -> OffsetDateTime {
        PrimitiveDateTime::MIN.assume_utc()
    }
    pub(crate) fn max() -> OffsetDateTime {
        PrimitiveDateTime::MAX.assume_utc()
    }
}

/// A search prefix (`ge2024-05-01`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Prefix {
    Eq,
    Ne,
    Gt,
    Lt,
    Ge,
    Le,
    Sa,
    Eb,
}

/// Splits the prefix off a date search value (`eq` when there is none).
pub(crate) fn split_prefix(value: &str) -> (Prefix, &str) {
    let p = match value.get(..2) {
        Some("eq") => Prefix::Eq,
        Some("ne") => Prefix::Ne,
        Some("gt") => Prefix::Gt,
        Some("lt") => Prefix::Lt,
        Some("ge") => Prefix::Ge,
        Some("le") => Prefix::Le,
        Some("sa") => Prefix::Sa,
        Some("eb") => Prefix::Eb,
        _ => return (Prefix::Eq, value),
    };
    (p, &value[2..])
}

impl Prefix {
    /// Whether a resource's `target` range matches the search `param` range.
    pub(crate) fn matches(self, target: &Range, param: &Range) -> bool {
        match self {
            Self::Eq => param.low <= target.low && target.high <= param.high,
            Self::Ne => !(param.low <= target.low && target.high <= param.high),
            Self::Gt => target.high > param.high,
            Self::Lt => target.low < param.low,
            Self::Ge => target.high > param.low,
            Self::Le => target.low < param.high,
            Self::Sa => target.low >= param.high,
            Self::Eb => target.high <= param.low,
        }
    }
}

fn num(s: &str) -> Option<u32> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn offset(s: &str) -> Option<UtcOffset> {
    if s == "Z" {
        return Some(UtcOffset::UTC);
    }
    let sign: i8 = match s.as_bytes().first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let (h, m) = s[1..].split_once(':')?;
    let (h, m) = (num(h)?, num(m)?);
    if h > 14 || m > 59 {
        return None;
    }
    UtcOffset::from_hms(sign * h as i8, sign * m as i8, 0).ok()
}

fn add_months(d: Date, months: u32) -> Option<Date> {
    let total = d.year() * 12 + (u8::from(d.month()) as i32 - 1) + months as i32;
    Date::from_calendar_date(
        total.div_euclid(12),
        Month::try_from((total.rem_euclid(12) + 1) as u8).ok()?,
        1,
    )
    .ok()
}

/// The interval a FHIR `date`, `dateTime` or `instant` value stands for. A value without a
/// time zone is read in `local` (the server's zone).
pub(crate) fn parse(value: &str, local: UtcOffset) -> Option<Range> {
    let (date_part, time_part) = match value.split_once('T') {
        Some((d, t)) => (d, Some(t)),
        None => (value, None),
    };
    let mut it = date_part.split('-');
    let year = it.next().filter(|y| y.len() == 4).and_then(num)? as i32;
    let month = it.next().map(|m| (m.len() == 2).then(|| num(m)).flatten());
    let day = it.next().map(|d| (d.len() == 2).then(|| num(d)).flatten());
    if it.next().is_some() {
        return None;
    }
    let month_n = match month {
        None => None,
        Some(m) => Some(Month::try_from(u8::try_from(m?).ok()?).ok()?),
    };
    let day_n = match day {
        None => None,
        Some(d) => Some(u8::try_from(d?).ok()?),
    };
    let start =
        Date::from_calendar_date(year, month_n.unwrap_or(Month::January), day_n.unwrap_or(1))
            .ok()?;
    let Some(t) = time_part else {
        let (low, high) = match (month_n, day_n) {
            (None, _) => (start, add_months(start, 12)?),
            (Some(_), None) => (start, add_months(start, 1)?),
            (Some(_), Some(_)) => (start, start.next_day()?),
        };
        let at = |d: Date| PrimitiveDateTime::new(d, Time::MIDNIGHT).assume_offset(local);
        return Some(Range {
            low: at(low),
            high: at(high),
        });
    };
    day_n?;
    // hh:mm[:ss[.fff]] then an optional zone.
    let zone_at = t.find(['Z', '+', '-']).unwrap_or(t.len());
    let (clock, zone) = t.split_at(zone_at);
    let zone = if zone.is_empty() {
        local
    } else {
        offset(zone)?
    };
    let mut parts = clock.split(':');
    let h = num(parts.next().filter(|p| p.len() == 2)?)?;
    let m = num(parts.next().filter(|p| p.len() == 2)?)?;
    let (s, nanos, step) = match parts.next() {
        None => (0, 0, time::Duration::minutes(1)),
        Some(sec) => {
            let (whole, frac) = match sec.split_once('.') {
                Some((w, f)) => (w, Some(f)),
                None => (sec, None),
            };
            if whole.len() != 2 {
                return None;
            }
            match frac {
                None => (num(whole)?, 0, time::Duration::seconds(1)),
                Some(f) if !f.is_empty() && f.len() <= 9 => {
                    let digits = num(f)?;
                    let nanos = digits * 10u32.pow(9 - f.len() as u32);
                    let step = time::Duration::nanoseconds(10i64.pow(9 - f.len() as u32));
                    (num(whole)?, nanos, step)
                }
                Some(_) => return None,
            }
        }
    };
    if parts.next().is_some() {
        return None;
    }
    let clock = Time::from_hms_nano(
        u8::try_from(h).ok()?,
        u8::try_from(m).ok()?,
        u8::try_from(s).ok()?,
        nanos,
    )
    .ok()?;
    let low = PrimitiveDateTime::new(start, clock).assume_offset(zone);
    Some(Range {
        low,
        high: low + step,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{datetime, offset};

    const MYT: UtcOffset = offset!(+08:00);

    #[test]
    fn precision_gives_the_interval() {
        let r = parse("2024", MYT).unwrap();
        assert_eq!(r.low, datetime!(2024-01-01 00:00 +08:00));
        assert_eq!(r.high, datetime!(2025-01-01 00:00 +08:00));
        let r = parse("2024-12", MYT).unwrap();
        assert_eq!(r.high, datetime!(2025-01-01 00:00 +08:00));
        let r = parse("2024-02-29", MYT).unwrap();
        assert_eq!(r.high, datetime!(2024-03-01 00:00 +08:00));
        let r = parse("2024-05-01T10:00:00Z", MYT).unwrap();
        assert_eq!(r.low, datetime!(2024-05-01 10:00 UTC));
        assert_eq!(r.high, datetime!(2024-05-01 10:00:01 UTC));
        let r = parse("2024-05-01T10:00:00.250+08:00", MYT).unwrap();
        assert_eq!(r.low, datetime!(2024-05-01 10:00:00.25 +08:00));
        assert_eq!(r.high - r.low, time::Duration::milliseconds(1));
        let r = parse("2024-05-01T10:00", MYT).unwrap();
        assert_eq!(r.low, datetime!(2024-05-01 10:00 +08:00));
    }

    #[test]
    fn malformed_values_are_refused() {
        for bad in [
            "",
            "24",
            "2024-5",
            "2024-13",
            "2024-02-30",
            "2024-05-01T",
            "2024-05-01T25:00",
            "2024-05-01T10:00:00+0800",
            "2024-05T10:00",
            "abcd",
        ] {
            assert!(parse(bad, MYT).is_none(), "{bad}");
        }
    }

    #[test]
    fn prefixes_compare_intervals() {
        let day = parse("2024-05-01", MYT).unwrap();
        let noon = parse("2024-05-01T12:00:00+08:00", MYT).unwrap();
        let next = parse("2024-05-02T09:00:00+08:00", MYT).unwrap();
        assert!(Prefix::Eq.matches(&noon, &day));
        assert!(!Prefix::Eq.matches(&next, &day));
        assert!(Prefix::Ne.matches(&next, &day));
        assert!(Prefix::Gt.matches(&next, &day));
        assert!(!Prefix::Gt.matches(&noon, &day));
        assert!(Prefix::Ge.matches(&noon, &day));
        assert!(Prefix::Lt.matches(&noon, &parse("2024-05-02", MYT).unwrap()));
        assert!(Prefix::Le.matches(&noon, &day));
        assert!(!Prefix::Le.matches(&next, &day));
        assert!(Prefix::Sa.matches(&next, &day));
        assert!(Prefix::Eb.matches(&noon, &parse("2024-05-02", MYT).unwrap()));
        assert_eq!(split_prefix("ge2024"), (Prefix::Ge, "2024"));
        assert_eq!(split_prefix("2024"), (Prefix::Eq, "2024"));
    }
}
