//! Who is acting. Every request resolves to an [`Actor`]; services take it explicitly
//! and decide what it may see and do.

use entity::enums::Role;

/// The acting user of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Actor {
    /// Nobody signed in.
    #[default]
    Anonymous,
    /// A signed-in user with their role.
    User {
        /// Database id of the user.
        id: i64,
        /// Role at the time the request was authenticated.
        role: Role,
    },
}

impl Actor {
    /// The user's id, when signed in.
    pub fn user_id(&self) -> Option<i64> {
        match self {
            Actor::Anonymous => None,
            Actor::User { id, .. } => Some(*id),
        }
    }

    /// Whether the actor runs the platform.
    pub fn is_admin(&self) -> bool {
        matches!(
            self,
            Actor::User {
                role: Role::Admin,
                ..
            }
        )
    }
}
