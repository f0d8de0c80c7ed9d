//! The `webhook_deliveries` table: one row per (event, matching endpoint).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_deliveries")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub seq: i64,
    pub id: String,
    pub endpoint_id: String,
    pub event_seq: i64,
    pub order_key: String,
    pub status: String,
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub lease_until: Option<i64>,
    pub last_status_code: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    /// When the current retry window began (the first attempt, or the first after a
    /// redelivery); `None` before any attempt.
    pub first_attempt_at: Option<i64>,
    /// Attempts made in the current retry window (the backoff exponent).
    pub window_attempts: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
