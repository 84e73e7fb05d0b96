//! Time buckets in the caller's time zone, and the SQL that puts a timestamp column in
//! its bucket, so figures are grouped by the database.
//!
//! A range is whole local days, `from` to `to` inclusive. Buckets are local days, ISO
//! weeks (Monday first) or calendar months; the first and last may be cut by the range
//! (a week from Wednesday), and each is labelled by its first local day. The bucket of
//! a row is computed in SQL from its Unix time: by arithmetic when the zone keeps one
//! offset over the whole range and buckets are days or weeks (China all year), and by
//! a `CASE` over the bucket edges otherwise (months, or a daylight-saving change).

use chrono::{DateTime, Datelike, Days, NaiveDate, Offset, TimeZone, Utc, Weekday};
use chrono_tz::Tz;
use sea_orm::DbBackend;

use crate::error::AppResult;
use crate::service::validation::{FieldError, UserErrorCode};

/// At most this many buckets in one answer (a year and a day of days).
pub const MAX_BUCKETS: usize = 366;

/// How long each bucket is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Granularity {
    /// A local calendar day.
    Day,
    /// An ISO week, Monday to Sunday.
    Week,
    /// A calendar month.
    Month,
}

/// One bucket: its first local day and the instants it spans.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bucket {
    /// Its first local day (the label).
    pub first_day: NaiveDate,
    /// Its first instant.
    pub starts_at: DateTime<Utc>,
    /// The first instant after it.
    pub ends_at: DateTime<Utc>,
}

/// The buckets of a range in a time zone, and how SQL finds a row's bucket.
#[derive(Debug, Clone)]
pub struct Buckets {
    /// In time order, covering the range exactly.
    pub buckets: Vec<Bucket>,
    /// The zone's offset in seconds when it is one over the whole range.
    fixed_offset: Option<i64>,
    granularity: Granularity,
}

/// Reads an IANA time zone name (`Asia/Shanghai`).
pub fn time_zone(name: &str) -> AppResult<Tz> {
    name.parse::<Tz>().map_err(|_| {
        FieldError::new(
            "timeZone",
            UserErrorCode::Invalid,
            "an IANA time zone name, such as Asia/Shanghai",
        )
        .into()
    })
}

/// The first instant of a local day (the earliest, should midnight repeat; the first
/// hour that exists, should a daylight-saving gap swallow midnight).
pub fn start_of_day(zone: Tz, day: NaiveDate) -> DateTime<Utc> {
    (0..=3)
        .find_map(|hour| {
            day.and_hms_opt(hour, 0, 0)
                .and_then(|t| zone.from_local_datetime(&t).earliest())
        })
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| day.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc())
}

/// The first day of the bucket after the one that holds `day`.
fn next_start(day: NaiveDate, granularity: Granularity) -> Option<NaiveDate> {
    match granularity {
        Granularity::Day => day.checked_add_days(Days::new(1)),
        Granularity::Week => {
            let to_monday = 7 - u64::from(day.weekday().num_days_from_monday());
            day.checked_add_days(Days::new(to_monday))
        }
        Granularity::Month => {
            let (year, month) = if day.month() == 12 {
                (day.year() + 1, 1)
            } else {
                (day.year(), day.month() + 1)
            };
            NaiveDate::from_ymd_opt(year, month, 1)
        }
    }
}

impl Buckets {
    /// The buckets of `from..=to` (local days) in `zone`. A range that ends before it
    /// starts, or needs more than [`MAX_BUCKETS`], is refused on `range`.
    pub fn new(
        from: NaiveDate,
        to: NaiveDate,
        granularity: Granularity,
        zone: Tz,
    ) -> AppResult<Self> {
        let refuse = |message: &str| -> crate::error::AppError {
            FieldError::new("range", UserErrorCode::Invalid, message).into()
        };
        if to < from {
            return Err(refuse("the range ends before it starts"));
        }
        let end_day = to
            .checked_add_days(Days::new(1))
            .ok_or_else(|| refuse("the range is out of bounds"))?;
        let mut first_days = vec![from];
        loop {
            let last = *first_days.last().unwrap_or(&from);
            match next_start(last, granularity) {
                Some(next) if next < end_day => first_days.push(next),
                Some(_) => break,
                None => return Err(refuse("the range is out of bounds")),
            }
            if first_days.len() > MAX_BUCKETS {
                return Err(refuse(
                    "at most 366 buckets: choose a shorter range or longer buckets",
                ));
            }
        }
        let buckets: Vec<Bucket> = first_days
            .iter()
            .enumerate()
            .map(|(i, &day)| Bucket {
                first_day: day,
                starts_at: start_of_day(zone, day),
                ends_at: start_of_day(zone, *first_days.get(i + 1).unwrap_or(&end_day)),
            })
            .collect();
        // One offset at every local midnight of the range: day arithmetic holds.
        let offset_on = |day: NaiveDate| {
            i64::from(
                zone.offset_from_utc_datetime(&start_of_day(zone, day).naive_utc())
                    .fix()
                    .local_minus_utc(),
            )
        };
        let first_offset = offset_on(from);
        let fixed_offset = from
            .iter_days()
            .take_while(|day| *day <= end_day)
            .all(|day| offset_on(day) == first_offset)
            .then_some(first_offset);
        Ok(Buckets {
            buckets,
            fixed_offset,
            granularity,
        })
    }

    /// The first instant of the range.
    pub fn starts_at(&self) -> DateTime<Utc> {
        self.buckets
            .first()
            .map(|b| b.starts_at)
            .unwrap_or_default()
    }

    /// The first instant after the range.
    pub fn ends_at(&self) -> DateTime<Utc> {
        self.buckets.last().map(|b| b.ends_at).unwrap_or_default()
    }

    /// When every bucket is whole platform days (the zone keeps UTC+8 over the range, as
    /// China does): the first platform day, the first day after the range, and SQL for
    /// the bucket of a row whose platform day is in `column` (see `rollup`).
    pub fn platform_days(&self, column: &str) -> Option<(i64, i64, String)> {
        use super::rollup::{DAY_OFFSET_SECS, day_of};
        if self.fixed_offset != Some(DAY_OFFSET_SECS) {
            return None;
        }
        let first = self.buckets.first()?.first_day;
        let first_index = days_since_epoch(first);
        let index = match self.granularity {
            Granularity::Day => format!("({column} - {first_index})"),
            Granularity::Week => {
                // Day 0 (1970-01-01) was a Thursday: +3 makes weeks start on Monday.
                let first_week = (first_index + 3).div_euclid(7);
                format!("(({column} + 3) / 7 - {first_week})")
            }
            Granularity::Month => {
                let mut sql = String::from("CASE");
                for (index, bucket) in self.buckets.iter().enumerate().skip(1) {
                    let edge = days_since_epoch(bucket.first_day);
                    sql.push_str(&format!(" WHEN {column} < {edge} THEN {}", index - 1));
                }
                sql.push_str(&format!(" ELSE {} END", self.buckets.len() - 1));
                sql
            }
        };
        // A BIGINT on both databases (PostgreSQL types the CASE's literals INTEGER).
        let index = format!("CAST({index} AS BIGINT)");
        Some((day_of(self.starts_at()), day_of(self.ends_at()), index))
    }

    /// How many buckets.
    pub fn len(&self) -> usize {
        self.buckets.len()
    }

    /// Whether there are none (never, for a valid range).
    pub fn is_empty(&self) -> bool {
        self.buckets.is_empty()
    }

    /// SQL for the bucket index (0-based) of a row whose `column` lies in the range:
    /// arithmetic on its Unix time for days and weeks at one offset, else a `CASE` that
    /// compares the column itself with each bucket's first instant (bound through
    /// `bind`, which answers the placeholder), so no row's time is converted more than
    /// once. It holds only integers computed here and placeholders, never input text.
    pub fn index_sql(
        &self,
        backend: DbBackend,
        column: &str,
        bind: &mut dyn FnMut(DateTime<Utc>) -> String,
    ) -> String {
        let first = self.buckets.first().map(|b| b.first_day);
        match (self.fixed_offset, self.granularity, first) {
            (Some(offset), Granularity::Day, Some(first)) => {
                let epoch = epoch_sql(backend, column);
                let first_index = days_since_epoch(first);
                format!("((({epoch}) + {offset}) / 86400 - {first_index})")
            }
            (Some(offset), Granularity::Week, Some(first)) => {
                let epoch = epoch_sql(backend, column);
                // Day 0 (1970-01-01) was a Thursday: +3 makes weeks start on Monday.
                let first_index = (days_since_epoch(first) + 3).div_euclid(7);
                format!("(((({epoch}) + {offset}) / 86400 + 3) / 7 - {first_index})")
            }
            _ => {
                let mut sql = String::from("CASE");
                for (index, bucket) in self.buckets.iter().enumerate().skip(1) {
                    let edge = bind(bucket.starts_at);
                    sql.push_str(&format!(" WHEN {column} < {edge} THEN {}", index - 1));
                }
                sql.push_str(&format!(
                    " ELSE {} END",
                    self.buckets.len().saturating_sub(1)
                ));
                sql
            }
        }
    }
}

fn days_since_epoch(day: NaiveDate) -> i64 {
    day.signed_duration_since(NaiveDate::default()).num_days()
}

/// SQL for a timestamp column's Unix time in whole seconds.
pub fn epoch_sql(backend: DbBackend, column: &str) -> String {
    match backend {
        DbBackend::Postgres => format!("CAST(FLOOR(EXTRACT(EPOCH FROM {column})) AS BIGINT)"),
        _ => format!("CAST(strftime('%s', {column}) AS INTEGER)"),
    }
}

/// Monday of the ISO week holding `day`.
pub fn monday_of(day: NaiveDate) -> NaiveDate {
    day.week(Weekday::Mon).first_day()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("date")
    }

    #[test]
    fn shanghai_days_start_at_sixteen_hundred_utc() {
        let b = Buckets::new(
            day("2026-12-01"),
            day("2026-12-03"),
            Granularity::Day,
            chrono_tz::Asia::Shanghai,
        )
        .expect("valid");
        assert_eq!(b.len(), 3);
        assert_eq!(b.starts_at().to_rfc3339(), "2026-11-30T16:00:00+00:00");
        assert_eq!(b.ends_at().to_rfc3339(), "2026-12-03T16:00:00+00:00");
        assert_eq!(b.fixed_offset, Some(8 * 3600));
        assert_eq!(
            b.index_sql(DbBackend::Postgres, "t", &mut |_| unreachable!()),
            "(((CAST(FLOOR(EXTRACT(EPOCH FROM t)) AS BIGINT)) + 28800) / 86400 - 20788)"
        );
    }

    #[test]
    fn weeks_start_on_monday_and_are_cut_by_the_range() {
        // 2026-11-25 is a Wednesday; the range ends on Thursday 2026-12-10.
        let b = Buckets::new(
            day("2026-11-25"),
            day("2026-12-10"),
            Granularity::Week,
            chrono_tz::Asia::Shanghai,
        )
        .expect("valid");
        let firsts: Vec<String> = b.buckets.iter().map(|b| b.first_day.to_string()).collect();
        assert_eq!(firsts, ["2026-11-25", "2026-11-30", "2026-12-07"]);
        assert_eq!(b.ends_at().to_rfc3339(), "2026-12-10T16:00:00+00:00");
        assert_eq!(monday_of(day("2026-11-25")), day("2026-11-23"));
    }

    #[test]
    fn months_and_daylight_saving_use_the_bucket_edges() {
        let b = Buckets::new(
            day("2026-01-15"),
            day("2026-03-31"),
            Granularity::Month,
            chrono_tz::Asia::Shanghai,
        )
        .expect("valid");
        let firsts: Vec<String> = b.buckets.iter().map(|b| b.first_day.to_string()).collect();
        assert_eq!(firsts, ["2026-01-15", "2026-02-01", "2026-03-01"]);
        let mut edges = Vec::new();
        let sql = b.index_sql(DbBackend::Sqlite, "t", &mut |at| {
            edges.push(at);
            format!("${}", edges.len())
        });
        assert_eq!(sql, "CASE WHEN t < $1 THEN 0 WHEN t < $2 THEN 1 ELSE 2 END");
        assert_eq!(edges[0].to_rfc3339(), "2026-01-31T16:00:00+00:00");

        // New York springs forward on 2026-03-08: the days around it are 24, 23, 24 hours.
        let ny = Buckets::new(
            day("2026-03-07"),
            day("2026-03-09"),
            Granularity::Day,
            chrono_tz::America::New_York,
        )
        .expect("valid");
        assert_eq!(ny.fixed_offset, None);
        let hours: Vec<i64> = ny
            .buckets
            .iter()
            .map(|b| (b.ends_at - b.starts_at).num_hours())
            .collect();
        assert_eq!(hours, [24, 23, 24]);
    }

    #[test]
    fn bad_ranges_and_zones_are_refused() {
        assert!(
            Buckets::new(
                day("2026-12-02"),
                day("2026-12-01"),
                Granularity::Day,
                chrono_tz::UTC
            )
            .is_err()
        );
        assert!(
            Buckets::new(
                day("2020-01-01"),
                day("2026-01-01"),
                Granularity::Day,
                chrono_tz::UTC
            )
            .is_err()
        );
        assert!(
            Buckets::new(
                day("2020-01-01"),
                day("2026-01-01"),
                Granularity::Month,
                chrono_tz::UTC
            )
            .is_ok()
        );
        assert!(time_zone("Asia/Shanghai").is_ok());
        assert!(time_zone("Mars/Olympus").is_err());
    }
}
