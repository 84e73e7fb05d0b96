//! Input checks that name the failing field. A service collects every failure of an
//! input, then refuses the whole input (nothing is written) with
//! [`AppError::Invalid`], which the GraphQL layer turns into `userErrors`. The error
//! types themselves ([`FieldError`], [`UserErrorCode`]) live in `crate::error`.

use chrono::{DateTime, Utc};

use crate::error::{AppError, AppResult};
pub use crate::error::{FieldError, UserErrorCode};

/// Largest price of anything, in fen (100,000 yuan).
pub const MAX_PRICE_FEN: i64 = 10_000_000;

/// Collects field errors of one input.
#[derive(Debug, Default)]
pub struct Checks {
    errors: Vec<FieldError>,
}

impl Checks {
    /// No errors yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records an error.
    pub fn fail(&mut self, field: &str, code: UserErrorCode, message: impl Into<String>) {
        self.errors.push(FieldError::new(field, code, message));
    }

    /// A required text: trimmed, non-empty, at most `max` characters. Returns it trimmed.
    pub fn text(&mut self, field: &str, value: &str, max: usize) -> String {
        let trimmed = value.trim();
        if trimmed.is_empty() {
            self.fail(
                field,
                UserErrorCode::Required,
                format!("{field} is required"),
            );
        } else {
            self.max_len(field, trimmed, max);
        }
        trimmed.to_owned()
    }

    /// An optional text: trimmed, blank becomes `None`, at most `max` characters.
    pub fn optional_text(
        &mut self,
        field: &str,
        value: Option<&str>,
        max: usize,
    ) -> Option<String> {
        let trimmed = value.map(str::trim).filter(|v| !v.is_empty())?;
        self.max_len(field, trimmed, max);
        Some(trimmed.to_owned())
    }

    fn max_len(&mut self, field: &str, value: &str, max: usize) {
        if value.chars().count() > max {
            self.fail(
                field,
                UserErrorCode::TooLong,
                format!("{field} must be at most {max} characters"),
            );
        }
    }

    /// An optional http(s) URL of at most 512 characters; blank becomes `None`.
    pub fn optional_url(&mut self, field: &str, value: Option<&str>) -> Option<String> {
        let trimmed = value.map(str::trim).filter(|v| !v.is_empty())?;
        self.url(field, trimmed);
        Some(trimmed.to_owned())
    }

    /// A required http(s) URL.
    pub fn url(&mut self, field: &str, value: &str) -> String {
        let trimmed = value.trim();
        let valid = url::Url::parse(trimmed)
            .map(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
            .unwrap_or(false);
        if !valid {
            self.fail(
                field,
                UserErrorCode::Invalid,
                format!("{field} must be an http(s) URL"),
            );
        } else {
            self.max_len(field, trimmed, 512);
        }
        trimmed.to_owned()
    }

    /// A price in fen within 0..=[`MAX_PRICE_FEN`].
    pub fn price(&mut self, field: &str, fen: i64) -> i64 {
        if !(0..=MAX_PRICE_FEN).contains(&fen) {
            self.fail(
                field,
                UserErrorCode::OutOfRange,
                format!("{field} must be between 0 and {MAX_PRICE_FEN} fen"),
            );
        }
        fen
    }

    /// An integer within `min..=max`.
    pub fn range(&mut self, field: &str, value: i64, min: i64, max: i64) -> i64 {
        if !(min..=max).contains(&value) {
            self.fail(
                field,
                UserErrorCode::OutOfRange,
                format!("{field} must be between {min} and {max}"),
            );
        }
        value
    }

    /// A time after `now`.
    pub fn future(
        &mut self,
        field: &str,
        value: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> DateTime<Utc> {
        if value <= now {
            self.fail(
                field,
                UserErrorCode::OutOfRange,
                format!("{field} must be in the future"),
            );
        }
        value
    }

    /// Ok when nothing failed, else every failure at once.
    pub fn finish(self) -> AppResult<()> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(AppError::Invalid(self.errors))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collects_every_failure() {
        let mut checks = Checks::new();
        assert_eq!(checks.text("title", "  hi  ", 10), "hi");
        checks.text("subtitle", "   ", 10);
        checks.text("name", &"长".repeat(11), 10);
        checks.url("coverUrl", "javascript:alert(1)");
        checks.price("priceFen", 10_000_001);
        let Err(AppError::Invalid(errors)) = checks.finish() else {
            panic!("expected errors");
        };
        let codes: Vec<_> = errors
            .iter()
            .map(|e| (e.field[1].as_str(), e.code))
            .collect();
        assert_eq!(
            codes,
            vec![
                ("subtitle", UserErrorCode::Required),
                ("name", UserErrorCode::TooLong),
                ("coverUrl", UserErrorCode::Invalid),
                ("priceFen", UserErrorCode::OutOfRange),
            ]
        );
    }
}
