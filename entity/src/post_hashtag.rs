//! Table `post_hashtags`: a hashtag of a group post; (post_id, tag) is unique, and
//! (group_id, tag) lists a group's posts by tag.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "post_hashtags")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub post_id: i64,
    /// The post's group (copied, for the by-tag index).
    pub group_id: i64,
    /// The tag without `#`.
    pub tag: String,
}

impl ActiveModelBehavior for ActiveModel {}
