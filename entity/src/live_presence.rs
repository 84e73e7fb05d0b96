//! Table `live_presence`: how many distinct users each API replica has subscribed to
//! each live room, with the replica's last heartbeat; rows older than the presence
//! window are ignored, so a replica that dies stops counting.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "live_presence")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub instance_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub livestream_id: i64,
    pub viewers: i64,
    pub heartbeat_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
