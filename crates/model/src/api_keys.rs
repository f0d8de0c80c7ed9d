//! API keys: stored as SHA-256 lookup hashes, shown once when created.

use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};

use crate::entities::api_key::{self, Column, Entity};
use crate::ids::ObjectId;
use crate::page::count;
use crate::password::{api_key_hash, random_secret};
use crate::{Db, ModelResult};

/// A key's public record (never the key itself).
#[derive(Debug, Clone, PartialEq)]
pub struct ApiKeyInfo {
    pub id: String,
    pub name: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked: bool,
}

impl From<api_key::Model> for ApiKeyInfo {
    fn from(m: api_key::Model) -> Self {
        ApiKeyInfo {
            id: m.id,
            name: m.name,
            created_at: m.created_at,
            last_used_at: m.last_used_at,
            revoked: m.revoked_at.is_some(),
        }
    }
}

/// Creates a named key; returns its record and the key (shown once).
///
/// # Errors
/// On database failure.
pub async fn create(db: &Db, name: &str) -> ModelResult<(ApiKeyInfo, String)> {
    let key = format!("csms_{}", random_secret(40));
    let info = store(db, name, &key).await?;
    Ok((info, key))
}

async fn store(db: &Db, name: &str, key: &str) -> ModelResult<ApiKeyInfo> {
    let now = db.now_ms();
    let model = api_key::ActiveModel {
        id: Set(ObjectId::new_at(now).into_string()),
        name: Set(name.to_owned()),
        key_hash: Set(api_key_hash(key)),
        created_at: Set(now),
        last_used_at: Set(None),
        revoked_at: Set(None),
    }
    .insert(db.conn())
    .await?;
    Ok(model.into())
}

/// Start-up: makes `configured` (from `CSMS_API_KEY`) valid, or, when no key is
/// configured and none is stored, creates one and returns it so it can be printed once.
///
/// # Errors
/// On database failure.
pub async fn ensure_initial(db: &Db, configured: Option<&str>) -> ModelResult<Option<String>> {
    if let Some(key) = configured {
        let exists = count(
            db.conn(),
            Entity::find().filter(Column::KeyHash.eq(api_key_hash(key))),
        )
        .await?
            > 0;
        if !exists {
            store(db, "CSMS_API_KEY", key).await?;
        }
        return Ok(None);
    }
    let live = count(
        db.conn(),
        Entity::find().filter(Column::RevokedAt.is_null()),
    )
    .await?;
    if live > 0 {
        return Ok(None);
    }
    let (_, key) = create(db, "initial").await?;
    Ok(Some(key))
}

/// Checks a presented key; records its use. Returns the key's record when valid.
///
/// # Errors
/// On database failure.
pub async fn authenticate(db: &Db, presented: &str) -> ModelResult<Option<ApiKeyInfo>> {
    let Some(found) = Entity::find()
        .filter(Column::KeyHash.eq(api_key_hash(presented)))
        .filter(Column::RevokedAt.is_null())
        .one(db.reader())
        .await?
    else {
        return Ok(None);
    };
    let now = db.now_ms();
    // Throttled: at most one write a minute per key keeps the hot path read-only.
    if found.last_used_at.is_none_or(|t| now - t > 60_000) {
        Entity::update_many()
            .col_expr(Column::LastUsedAt, Expr::value(now))
            .filter(Column::Id.eq(found.id.clone()))
            .exec(db.conn())
            .await?;
    }
    Ok(Some(found.into()))
}

/// Every key's record.
///
/// # Errors
/// On database failure.
pub async fn list(db: &Db) -> ModelResult<Vec<ApiKeyInfo>> {
    Ok(Entity::find()
        .all(db.conn())
        .await?
        .into_iter()
        .map(ApiKeyInfo::from)
        .collect())
}

/// Revokes a key by id or name; returns whether one was revoked.
///
/// # Errors
/// On database failure.
pub async fn revoke(db: &Db, id_or_name: &str) -> ModelResult<bool> {
    let result = Entity::update_many()
        .col_expr(Column::RevokedAt, Expr::value(db.now_ms()))
        .filter(
            sea_orm::Condition::any()
                .add(Column::Id.eq(id_or_name))
                .add(Column::Name.eq(id_or_name)),
        )
        .filter(Column::RevokedAt.is_null())
        .exec(db.conn())
        .await?;
    Ok(result.rows_affected > 0)
}
