//! `webhook_deliveries.attempts`, `window_attempts` and `last_status_code` become
//! `BIGINT` on PostgreSQL, so every integer column of the schema is 64 bits on both
//! databases and the entities read them all as `i64`. (SQLite's integers are 64 bits
//! whatever the declared type, and its in-place rows hand every integer over as one:
//! ADR 0009; nothing changes there.)

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0007_bigint_counters"
    }
}

/// The columns' type on PostgreSQL: `BIGINT` after the migration, `INTEGER` before.
fn retype(sql_type: &str) -> String {
    format!(
        "ALTER TABLE webhook_deliveries \
         ALTER COLUMN attempts TYPE {sql_type}, \
         ALTER COLUMN window_attempts TYPE {sql_type}, \
         ALTER COLUMN last_status_code TYPE {sql_type}"
    )
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DbBackend::Postgres {
            manager
                .get_connection()
                .execute_unprepared(&retype("BIGINT"))
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DbBackend::Postgres {
            manager
                .get_connection()
                .execute_unprepared(&retype("INTEGER"))
                .await?;
        }
        Ok(())
    }
}
