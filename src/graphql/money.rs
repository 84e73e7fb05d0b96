//! Money as integer fen with its currency and a display string.

use async_graphql::{Enum, SimpleObject};

/// ISO 4217 currency codes the platform takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum CurrencyCode {
    /// Chinese yuan (renminbi); 1 yuan = 100 fen.
    Cny,
}

/// An amount of money.
#[derive(Debug, Clone, SimpleObject)]
pub struct Money {
    /// Amount in the currency's smallest unit (fen for CNY).
    pub amount: i64,
    /// Currency of the amount.
    pub currency: CurrencyCode,
    /// The amount for display, e.g. `¥99.00`.
    pub formatted: String,
}

impl Money {
    /// An amount in fen of Chinese yuan.
    pub fn cny(fen: i64) -> Self {
        let sign = if fen < 0 { "-" } else { "" };
        let abs = fen.unsigned_abs();
        Money {
            amount: fen,
            currency: CurrencyCode::Cny,
            formatted: format!("{sign}¥{}.{:02}", abs / 100, abs % 100),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_fen_as_yuan() {
        assert_eq!(Money::cny(0).formatted, "¥0.00");
        assert_eq!(Money::cny(9900).formatted, "¥99.00");
        assert_eq!(Money::cny(5).formatted, "¥0.05");
        assert_eq!(Money::cny(-150).formatted, "-¥1.50");
    }
}
