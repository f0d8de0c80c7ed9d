//! The `meter_values` table: one row per OCPP `MeterValue` (a timestamp and its
//! sampled values as JSON text), from MeterValues and StopTransaction.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "meter_values")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub seq: i64,
    pub chargestation_id: String,
    pub connector_id: i64,
    pub transaction_id: Option<i64>,
    pub timestamp: String,
    pub sampled_value: String,
    pub created_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
