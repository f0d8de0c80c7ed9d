//! Database migrations, append-only. Every migration must run, and roll back, on both
//! SQLite and PostgreSQL: only portable column types (text, integers, booleans) are used,
//! JSON is stored as text, and times are Unix milliseconds in `BIGINT` columns.

pub use sea_orm_migration::prelude::*;

mod m0001_initial;

/// The project's migrator: apply with `Migrator::up(&db, None)`.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(m0001_initial::Migration)]
    }
}
