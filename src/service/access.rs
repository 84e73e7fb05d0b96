//! Who may see paid content: lesson content, livestream play and replay addresses,
//! posts of paid groups. Everybody else sees metadata and `locked: true`.
//!
//! Open to all: free products, free-preview lessons, free groups. Anonymous visitors
//! get exactly that; entitlements, owners and admins unlock the rest once sign-in exists.

use crate::auth::Actor;

/// Whether the actor may see the paid content of a product with this price.
pub fn can_see_paid_content(actor: &Actor, price_fen: i64) -> bool {
    price_fen == 0 || actor.is_admin()
}

/// Whether a lesson's content is visible: free preview, or the course is open to the actor.
pub fn can_see_lesson(actor: &Actor, free_preview: bool, course_price_fen: i64) -> bool {
    free_preview || can_see_paid_content(actor, course_price_fen)
}

#[cfg(test)]
mod tests {
    use super::*;
    use entity::enums::Role;

    #[test]
    fn anonymous_sees_only_free_and_preview() {
        let nobody = Actor::Anonymous;
        assert!(can_see_lesson(&nobody, true, 9900));
        assert!(!can_see_lesson(&nobody, false, 9900));
        assert!(can_see_lesson(&nobody, false, 0));
        let admin = Actor::User {
            id: 1,
            role: Role::Admin,
        };
        assert!(can_see_lesson(&admin, false, 9900));
    }
}
