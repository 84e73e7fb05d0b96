//! Opaque global IDs: `base64("Course:42")`. Clients treat them as strings; the type
//! name inside lets `node(id:)` find the right table.

use async_graphql::ID;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::error::{AppError, AppResult};

/// The global ID of a row of type `type_name`.
pub fn encode(type_name: &str, id: i64) -> ID {
    ID(STANDARD.encode(format!("{type_name}:{id}")))
}

/// Splits a global ID into its type name and database id.
pub fn decode_any(id: &ID) -> AppResult<(String, i64)> {
    let invalid = || AppError::BadUserInput(format!("invalid ID {:?}", id.as_str()));
    let bytes = STANDARD.decode(id.as_str()).map_err(|_| invalid())?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    let (type_name, raw) = text.split_once(':').ok_or_else(invalid)?;
    let number: i64 = raw.parse().map_err(|_| invalid())?;
    if number <= 0 || type_name.is_empty() {
        return Err(invalid());
    }
    Ok((type_name.to_owned(), number))
}

/// The database id inside a global ID that must name a `type_name`.
pub fn decode(id: &ID, type_name: &str) -> AppResult<i64> {
    match decode_any(id)? {
        (found, number) if found == type_name => Ok(number),
        (found, _) => Err(AppError::BadUserInput(format!(
            "expected the ID of a {type_name}, got the ID of a {found}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_type_check() {
        let id = encode("Course", 42);
        assert_eq!(id.as_str(), "Q291cnNlOjQy");
        assert_eq!(decode(&id, "Course").unwrap(), 42);
        assert!(decode(&id, "User").is_err());
    }

    #[test]
    fn garbage_is_rejected() {
        for bad in ["", "!!!", "Q291cnNl", "Q291cnNlOi0x", "Q291cnNlOmFi"] {
            assert!(decode_any(&ID(bad.into())).is_err(), "case {bad:?}");
        }
    }
}
