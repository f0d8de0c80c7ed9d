//! The `message_log` table: one OCPP-J text frame in or out, its payload masked and
//! stored as JSON text, with its station, direction, type, action and round trip.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "message_log")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub seq: i64,
    pub id: String,
    pub chargestation_id: String,
    pub identity: String,
    pub direction: String,
    pub frame_type: Option<String>,
    pub action: Option<String>,
    pub message_id: Option<String>,
    pub payload: String,
    pub timestamp: i64,
    pub round_trip_ms: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
