//! The `transactions` table: charging sessions. `transaction_id` (auto-increment) is
//! the OCPP transactionId, unique per server.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "transactions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub transaction_id: i64,
    pub id: String,
    pub chargestation_id: String,
    pub connector_id: i64,
    pub id_tag: String,
    pub id_tag_status: String,
    pub meter_start: i64,
    pub start_timestamp: String,
    pub reservation_id: Option<i64>,
    pub meter_stop: Option<i64>,
    pub stop_timestamp: Option<String>,
    pub stop_reason: Option<String>,
    pub stop_id_tag: Option<String>,
    pub active: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
