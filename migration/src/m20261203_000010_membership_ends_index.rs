//! The reminder pass looks for paid memberships ending in the next 3 days every
//! minute; `(expires_at)` lets it read only those instead of every membership.

use sea_orm_migration::prelude::*;

/// Adds the index.
#[derive(DeriveMigrationName)]
pub struct Migration;

const NAME: &str = "ix_group_memberships_expires_at";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name(NAME)
                    .table(Alias::new("group_memberships"))
                    .col(Alias::new("expires_at"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name(NAME)
                    .table(Alias::new("group_memberships"))
                    .to_owned(),
            )
            .await
    }
}
