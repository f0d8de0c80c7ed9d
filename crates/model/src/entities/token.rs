//! The `tokens` table: idTags and how Authorize answers for them. `id_tag_key` is the
//! idTag in lower case (idTags compare case-insensitively) and is unique.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "tokens")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub id_tag: String,
    pub id_tag_key: String,
    pub status: String,
    pub expiry_date: Option<i64>,
    pub parent_id_tag: Option<String>,
    pub meta_data: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
