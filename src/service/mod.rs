//! Domain rules, free of GraphQL types. Every function takes the acting user where
//! visibility or permission depends on it, so authorisation holds whatever the caller.

pub mod access;
pub mod courses;
pub mod creators;
pub mod groups;
pub mod livestreams;
pub mod orders;
pub mod page;
pub mod ratings;
pub mod sessions;
pub mod users;
pub mod validation;

/// Sort direction shared by every list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Direction {
    /// Smallest first.
    Asc,
    /// Largest first.
    #[default]
    Desc,
}

impl Direction {
    /// Whether larger keys come first.
    pub fn descending(self) -> bool {
        self == Direction::Desc
    }
}
