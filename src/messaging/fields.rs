//! WeChat's rules for the values of subscribe-message templates: each key's type is the
//! letters before its number (`thing1`, `amount3`, `time4`), and each type has a length
//! limit that WeChat enforces by refusing the whole message (47003). Values are fitted
//! before sending: cut on character boundaries (never inside a character) with an
//! ellipsis, so a long course title still sends.

/// A template value's type, read from its key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    /// `thing`: any text, at most 20 characters.
    Thing,
    /// `phrase`: a short phrase, at most 5 characters.
    Phrase,
    /// `name`: a person's name, at most 10 characters.
    Name,
    /// `character_string`: letters, digits and symbols, at most 32.
    CharacterString,
    /// `number`: digits, at most 32.
    Number,
    /// `amount`: a sum of money such as `99.00元`, at most 11 characters.
    Amount,
    /// `time`, `date`, `phone_number`, `car_number` and anything else: sent as given.
    Other,
}

impl FieldKind {
    /// The kind of the key `thing1`, `character_string2`, ...
    pub fn of_key(key: &str) -> FieldKind {
        match key.trim_end_matches(|c: char| c.is_ascii_digit()) {
            "thing" => FieldKind::Thing,
            "phrase" => FieldKind::Phrase,
            "name" => FieldKind::Name,
            "character_string" => FieldKind::CharacterString,
            "number" => FieldKind::Number,
            "amount" => FieldKind::Amount,
            _ => FieldKind::Other,
        }
    }

    /// Most characters a value may have.
    pub fn max_chars(self) -> Option<usize> {
        match self {
            FieldKind::Thing => Some(20),
            FieldKind::Phrase => Some(5),
            FieldKind::Name => Some(10),
            FieldKind::CharacterString | FieldKind::Number => Some(32),
            FieldKind::Amount => Some(11),
            FieldKind::Other => None,
        }
    }
}

/// The value fitted to the key's limit: unchanged when it fits; otherwise its first
/// characters and `…`, exactly at the limit. Codes and numbers, which an ellipsis would
/// falsify, are cut without one.
pub fn fit(key: &str, value: &str) -> String {
    let kind = FieldKind::of_key(key);
    let Some(max) = kind.max_chars() else {
        return value.to_owned();
    };
    if value.chars().count() <= max {
        return value.to_owned();
    }
    match kind {
        FieldKind::CharacterString | FieldKind::Number | FieldKind::Amount => {
            value.chars().take(max).collect()
        }
        _ => {
            let mut fitted: String = value.chars().take(max - 1).collect();
            fitted.push('…');
            fitted
        }
    }
}

/// Formats fen as an `amount` value: `99.00元`.
pub fn amount(fen: i64) -> String {
    format!("{}.{:02}元", fen / 100, (fen % 100).abs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_fit_their_key_on_character_boundaries() {
        let title = "从零开始的 Rust 异步编程：tokio、axum 与 async-graphql 实战";
        let fitted = fit("thing1", title);
        assert_eq!(fitted.chars().count(), 20);
        assert!(fitted.ends_with('…'));
        assert!(title.starts_with(fitted.trim_end_matches('…')));
        assert_eq!(fit("phrase2", "支付成功啦啦"), "支付成功…");
        assert_eq!(fit("thing1", "短标题"), "短标题");
        assert_eq!(fit("character_string3", &"9".repeat(40)), "9".repeat(32));
        // Four-byte characters are whole characters too.
        assert_eq!(fit("phrase1", "😀😀😀😀😀😀"), "😀😀😀😀…");
        assert_eq!(fit("time4", "2026年12月03日 20:00"), "2026年12月03日 20:00");
        assert_eq!(amount(9900), "99.00元");
        assert_eq!(amount(5), "0.05元");
    }
}
