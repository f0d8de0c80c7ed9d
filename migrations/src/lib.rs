//! Database migrations, append-only. Every migration must run, and roll back, on both
//! SQLite and PostgreSQL: only portable column types (text, integers, booleans) are used,
//! JSON is stored as text, and times are Unix milliseconds in `BIGINT` columns.

pub use sea_orm_migration::prelude::*;

mod m0001_initial;
mod m0002_webhook_retry_window;
mod m0003_tokens_transactions;
mod m0004_instances;
mod m0005_message_log;
mod m0006_outbox_indexes;
mod m0007_bigint_counters;

/// The project's migrator: apply with `Migrator::up(&db, None)`.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m0001_initial::Migration),
            Box::new(m0002_webhook_retry_window::Migration),
            Box::new(m0003_tokens_transactions::Migration),
            Box::new(m0004_instances::Migration),
            Box::new(m0005_message_log::Migration),
            Box::new(m0006_outbox_indexes::Migration),
            Box::new(m0007_bigint_counters::Migration),
        ]
    }
}
