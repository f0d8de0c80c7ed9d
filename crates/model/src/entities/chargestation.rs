//! The `chargestations` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "chargestations")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub endpoint: String,
    pub protocol: String,
    pub active: bool,
    pub online: bool,
    pub boot_info: Option<String>,
    pub boot_count: i64,
    pub connectors: String,
    pub configuration: Option<String>,
    pub security_type: String,
    pub password_hash: Option<String>,
    pub lenient_handshake: bool,
    pub meta_data: Option<String>,
    pub connection_generation: i64,
    pub last_connect_at: Option<i64>,
    pub last_disconnect_at: Option<i64>,
    pub last_message_at: Option<i64>,
    pub queue_held: bool,
    pub held_by: Option<String>,
    /// The latest charger notifications (JSON object), see `notifications.rs`.
    pub notifications: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
