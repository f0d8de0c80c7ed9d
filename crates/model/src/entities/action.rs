//! The `actions` table: every command sent (or to be sent) to a charger, and its queue
//! position (`seq`) and state.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "actions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub seq: i64,
    pub id: String,
    #[sea_orm(column_name = "type")]
    pub r#type: String,
    pub status: String,
    pub chargestation_id: String,
    pub data: String,
    pub wire_data: Option<String>,
    pub response_data: Option<String>,
    pub meta_data: Option<String>,
    pub queue_state: String,
    pub sent_by: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
