//! Time series on the API: the `Date` scalar, date ranges and granularities, time
//! buckets, and figures as a total plus one point per bucket (money, counts, ratios),
//! shared by every analytics query.

use async_graphql::{
    Enum, InputObject, InputValueError, InputValueResult, Scalar, ScalarType, SimpleObject, Value,
};
use chrono::{DateTime, NaiveDate, Utc};

use crate::error::AppError;
use crate::graphql::money::Money;
use crate::service::analytics::buckets::{self, Bucket};
use crate::service::analytics::{self as figures, Buckets, Ratio, Series};

/// A calendar day, `YYYY-MM-DD`, in the time zone the query names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Date(pub NaiveDate);

/// A calendar day written `YYYY-MM-DD` (ISO 8601), read in the time zone the field or
/// query names.
#[Scalar(name = "Date")]
impl ScalarType for Date {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(text) => NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .ok()
                .filter(|_| text.len() == 10)
                .map(Date)
                .ok_or_else(|| InputValueError::custom("a date is written YYYY-MM-DD")),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.format("%Y-%m-%d").to_string())
    }
}

/// Whole days, `from` to `to`, both included.
#[derive(InputObject)]
pub struct DateRangeInput {
    /// The first day.
    pub from: Date,
    /// The last day (included).
    pub to: Date,
}

/// How long each time bucket is.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum Granularity {
    /// A calendar day.
    Day,
    /// An ISO week, Monday to Sunday (the first and last may be cut by the range).
    Week,
    /// A calendar month (the first and last may be cut by the range).
    Month,
}

impl From<Granularity> for figures::Granularity {
    fn from(value: Granularity) -> Self {
        match value {
            Granularity::Day => figures::Granularity::Day,
            Granularity::Week => figures::Granularity::Week,
            Granularity::Month => figures::Granularity::Month,
        }
    }
}

/// One time bucket.
#[derive(SimpleObject, Clone, Copy)]
pub struct TimeBucket {
    /// Its first day, in the requested time zone.
    pub date: Date,
    /// Its first instant.
    pub starts_at: DateTime<Utc>,
    /// The first instant after it.
    pub ends_at: DateTime<Utc>,
}

impl From<&Bucket> for TimeBucket {
    fn from(bucket: &Bucket) -> Self {
        TimeBucket {
            date: Date(bucket.first_day),
            starts_at: bucket.starts_at,
            ends_at: bucket.ends_at,
        }
    }
}

/// An amount of money in one bucket.
#[derive(SimpleObject)]
pub struct MoneyPoint {
    /// The bucket's first day.
    pub date: Date,
    /// The amount.
    pub value: Money,
}

/// An amount of money over the range and per bucket.
#[derive(SimpleObject)]
pub struct MoneyFigure {
    /// Over the whole range.
    pub total: Money,
    /// One point per bucket, zeros included.
    pub series: Vec<MoneyPoint>,
}

/// A count in one bucket.
#[derive(SimpleObject)]
pub struct CountPoint {
    /// The bucket's first day.
    pub date: Date,
    /// The count.
    pub value: i64,
}

/// A count over the range and per bucket.
#[derive(SimpleObject)]
pub struct CountFigure {
    /// Over the whole range (distinct counts are distinct over the range, not summed).
    pub total: i64,
    /// One point per bucket, zeros included.
    pub series: Vec<CountPoint>,
}

/// A ratio in one bucket.
#[derive(SimpleObject)]
pub struct RatioPoint {
    /// The bucket's first day.
    pub date: Date,
    /// The ratio; null when its denominator is zero.
    pub value: Option<f64>,
}

/// A ratio over the range and per bucket.
#[derive(SimpleObject)]
pub struct RatioFigure {
    /// Over the whole range; null when its denominator is zero.
    pub total: Option<f64>,
    /// One point per bucket.
    pub series: Vec<RatioPoint>,
}

/// The first day of each bucket.
pub(crate) fn days(buckets: &Buckets) -> impl Iterator<Item = Date> + '_ {
    buckets.buckets.iter().map(|b| Date(b.first_day))
}

/// A money series as the API shows it.
pub(crate) fn money(buckets: &Buckets, series: &Series) -> MoneyFigure {
    MoneyFigure {
        total: Money::cny(series.total),
        series: days(buckets)
            .zip(&series.points)
            .map(|(date, fen)| MoneyPoint {
                date,
                value: Money::cny(*fen),
            })
            .collect(),
    }
}

/// A count series as the API shows it.
pub(crate) fn count(buckets: &Buckets, series: &Series) -> CountFigure {
    CountFigure {
        total: series.total,
        series: days(buckets)
            .zip(&series.points)
            .map(|(date, value)| CountPoint {
                date,
                value: *value,
            })
            .collect(),
    }
}

/// A ratio series as the API shows it.
pub(crate) fn ratio(buckets: &Buckets, ratio: &Ratio) -> RatioFigure {
    RatioFigure {
        total: ratio.total,
        series: days(buckets)
            .zip(&ratio.points)
            .map(|(date, value)| RatioPoint {
                date,
                value: *value,
            })
            .collect(),
    }
}

/// The platform's time zone, where none is given (null included).
pub(crate) const DEFAULT_TIME_ZONE: &str = "Asia/Shanghai";

/// The buckets of a range in a named time zone (refused ranges and zones are
/// BAD_USER_INPUT).
pub(crate) fn buckets_of(
    range: &DateRangeInput,
    granularity: Granularity,
    time_zone: &str,
) -> Result<Buckets, AppError> {
    let zone = buckets::time_zone(time_zone)?;
    Buckets::new(range.from.0, range.to.0, granularity.into(), zone)
}
