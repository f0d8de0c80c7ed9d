//! Tokens: the idTags the central system knows and how it answers Authorize,
//! StartTransaction and StopTransaction for them (CONTRACT §9).
//!
//! idTags compare case-insensitively (OCPP `IdToken` is a case-insensitive string), so
//! each row keeps the idTag as given and a lower-case key that is unique. A token whose
//! `expiryDate` has passed answers `Expired` whatever its stored status was `Accepted`.
//! An idTag that is not in the list is `Accepted` while unknown tokens are accepted (the
//! hardware-testing default), else `Invalid`.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, EntityTrait, IntoActiveModel, QueryFilter, Set,
};
use serde_json::{json, Map, Value};

use crate::entities::token::{self, Column, Entity};
use crate::ids::ObjectId;
use crate::page::Page;
use crate::time::format_ms;
use crate::{Db, ModelError, ModelResult};

/// The longest idTag OCPP 1.6 allows (`CiString20Type`).
pub const MAX_ID_TAG_LEN: usize = 20;

/// A token's status, as OCPP's `AuthorizationStatus` without `ConcurrentTx`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenStatus {
    Accepted,
    Blocked,
    Expired,
    Invalid,
}

impl TokenStatus {
    /// The OCPP spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenStatus::Accepted => "Accepted",
            TokenStatus::Blocked => "Blocked",
            TokenStatus::Expired => "Expired",
            TokenStatus::Invalid => "Invalid",
        }
    }

    /// Reads the exact OCPP spelling.
    pub fn parse(text: &str) -> Option<TokenStatus> {
        match text {
            "Accepted" => Some(TokenStatus::Accepted),
            "Blocked" => Some(TokenStatus::Blocked),
            "Expired" => Some(TokenStatus::Expired),
            "Invalid" => Some(TokenStatus::Invalid),
            _ => None,
        }
    }
}

/// A stored token.
#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    pub id: String,
    pub id_tag: String,
    /// The status as stored (see [`Token::status_at`] for the answer given).
    pub status: TokenStatus,
    /// Unix milliseconds.
    pub expiry_date: Option<i64>,
    pub parent_id_tag: Option<String>,
    pub meta_data: Option<Value>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl TryFrom<token::Model> for Token {
    type Error = ModelError;

    fn try_from(m: token::Model) -> ModelResult<Self> {
        Ok(Token {
            status: TokenStatus::parse(&m.status)
                .ok_or_else(|| ModelError::Corrupt(format!("token status {}", m.status)))?,
            meta_data: m
                .meta_data
                .as_deref()
                .map(serde_json::from_str)
                .transpose()?,
            id: m.id,
            id_tag: m.id_tag,
            expiry_date: m.expiry_date,
            parent_id_tag: m.parent_id_tag,
            created_at: m.created_at,
            updated_at: m.updated_at,
        })
    }
}

impl Token {
    /// The status at `now_ms`: `Expired` once an `Accepted` token is past its expiry.
    pub fn status_at(&self, now_ms: i64) -> TokenStatus {
        match (self.status, self.expiry_date) {
            (TokenStatus::Accepted, Some(expiry)) if expiry <= now_ms => TokenStatus::Expired,
            (status, _) => status,
        }
    }

    /// The API object at `now_ms`: `{_id, idTag, status, expiryDate?, parentIdTag?,
    /// meta_data?, createdAt, updatedAt}`; `status` is the one Authorize answers.
    pub fn to_json(&self, now_ms: i64) -> Value {
        let mut o = Map::new();
        o.insert("_id".into(), json!(self.id));
        o.insert("idTag".into(), json!(self.id_tag));
        o.insert("status".into(), json!(self.status_at(now_ms).as_str()));
        if let Some(expiry) = self.expiry_date {
            o.insert("expiryDate".into(), json!(format_ms(expiry)));
        }
        if let Some(parent) = &self.parent_id_tag {
            o.insert("parentIdTag".into(), json!(parent));
        }
        if let Some(meta) = &self.meta_data {
            o.insert("meta_data".into(), meta.clone());
        }
        o.insert("createdAt".into(), json!(format_ms(self.created_at)));
        o.insert("updatedAt".into(), json!(format_ms(self.updated_at)));
        Value::Object(o)
    }
}

/// How Authorize (and StartTransaction / StopTransaction) answers for an idTag: the
/// fields of OCPP's `IdTagInfo`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization {
    /// `Accepted`, `Blocked`, `Expired` or `Invalid`.
    pub status: &'static str,
    /// RFC 3339.
    pub expiry_date: Option<String>,
    pub parent_id_tag: Option<String>,
}

fn key(id_tag: &str) -> String {
    id_tag.to_lowercase()
}

fn check_id_tag(field: &str, id_tag: &str) -> ModelResult<()> {
    let len = id_tag.chars().count();
    if len == 0 || len > MAX_ID_TAG_LEN {
        return Err(ModelError::Invalid(format!(
            "'{field}' must be 1 to {MAX_ID_TAG_LEN} characters"
        )));
    }
    Ok(())
}

/// A token to create (`POST /v1.1/tokens`).
#[derive(Debug, Clone)]
pub struct NewToken {
    pub id_tag: String,
    pub status: TokenStatus,
    pub expiry_date: Option<i64>,
    pub parent_id_tag: Option<String>,
    pub meta_data: Option<Value>,
}

fn conflict(id_tag: &str) -> ModelError {
    ModelError::Conflict(format!(
        "a token with idTag '{id_tag}' already exists (idTags compare case-insensitively)"
    ))
}

/// Creates a token.
///
/// # Errors
/// [`ModelError::Invalid`] for an idTag or parentIdTag that is empty or over 20
/// characters; [`ModelError::Conflict`] when the idTag exists in any case.
pub async fn create(db: &Db, new: NewToken) -> ModelResult<Token> {
    check_id_tag("idTag", &new.id_tag)?;
    if let Some(parent) = &new.parent_id_tag {
        check_id_tag("parentIdTag", parent)?;
    }
    if find_by_id_tag(db, &new.id_tag).await?.is_some() {
        return Err(conflict(&new.id_tag));
    }
    let now = db.now_ms();
    let inserted = token::ActiveModel {
        id: Set(ObjectId::new_at(now).into_string()),
        id_tag_key: Set(key(&new.id_tag)),
        id_tag: Set(new.id_tag.clone()),
        status: Set(new.status.as_str().to_owned()),
        expiry_date: Set(new.expiry_date),
        parent_id_tag: Set(new.parent_id_tag),
        meta_data: Set(new.meta_data.map(|m| m.to_string())),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db.conn())
    .await
    .map_err(|e| {
        if e.to_string().to_ascii_lowercase().contains("unique") {
            conflict(&new.id_tag)
        } else {
            ModelError::Db(e)
        }
    })?;
    inserted.try_into()
}

/// The token of an idTag, compared case-insensitively.
///
/// # Errors
/// On database failure.
pub async fn find_by_id_tag(db: &Db, id_tag: &str) -> ModelResult<Option<Token>> {
    Entity::find()
        .filter(Column::IdTagKey.eq(key(id_tag)))
        .one(db.conn())
        .await?
        .map(Token::try_from)
        .transpose()
}

/// A token by `_id`, or by idTag as a convenience.
///
/// # Errors
/// [`ModelError::NotFound`] or a database failure.
pub async fn get(db: &Db, id_or_tag: &str) -> ModelResult<Token> {
    if let Ok(id) = ObjectId::parse(id_or_tag) {
        if let Some(found) = Entity::find_by_id(id.into_string()).one(db.conn()).await? {
            return found.try_into();
        }
    }
    find_by_id_tag(db, id_or_tag)
        .await?
        .ok_or(ModelError::NotFound("token"))
}

/// List filters.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    /// One idTag, compared case-insensitively.
    pub id_tag: Option<String>,
    /// The status as Authorize answers it (an expired `Accepted` token is `Expired`).
    pub status: Option<TokenStatus>,
}

/// One page of tokens and the total count.
///
/// # Errors
/// On database failure.
pub async fn list(db: &Db, filter: &ListFilter, page: &Page) -> ModelResult<(Vec<Token>, u64)> {
    let now = db.now_ms();
    let mut query = Entity::find();
    if let Some(id_tag) = &filter.id_tag {
        query = query.filter(Column::IdTagKey.eq(key(id_tag)));
    }
    let not_expired = Condition::any()
        .add(Column::ExpiryDate.is_null())
        .add(Column::ExpiryDate.gt(now));
    let accepted = TokenStatus::Accepted.as_str();
    match filter.status {
        None => {}
        Some(TokenStatus::Accepted) => {
            query = query
                .filter(Column::Status.eq(accepted))
                .filter(not_expired);
        }
        Some(TokenStatus::Expired) => {
            query = query.filter(
                Condition::any()
                    .add(Column::Status.eq(TokenStatus::Expired.as_str()))
                    .add(
                        Condition::all()
                            .add(Column::Status.eq(accepted))
                            .add(Column::ExpiryDate.lte(now)),
                    ),
            );
        }
        Some(other) => query = query.filter(Column::Status.eq(other.as_str())),
    }
    let (rows, total) = crate::page::fetch(
        db,
        query,
        page,
        Column::CreatedAt,
        Column::UpdatedAt,
        Column::Id,
    )
    .await?;
    let items = rows
        .into_iter()
        .map(Token::try_from)
        .collect::<ModelResult<Vec<_>>>()?;
    Ok((items, total))
}

/// Changes to a token (`PATCH`); `None` leaves a field as it is, `Some(None)` removes
/// an optional one.
#[derive(Debug, Clone, Default)]
pub struct TokenPatch {
    pub status: Option<TokenStatus>,
    pub expiry_date: Option<Option<i64>>,
    pub parent_id_tag: Option<Option<String>>,
    pub meta_data: Option<Option<Value>>,
}

/// Applies a patch to the token with `_id` `id`.
///
/// # Errors
/// `NotFound`, `Invalid` for a bad parentIdTag, or a database failure.
pub async fn update(db: &Db, id: &str, patch: TokenPatch) -> ModelResult<Token> {
    let current = Entity::find_by_id(id.to_owned())
        .one(db.conn())
        .await?
        .ok_or(ModelError::NotFound("token"))?;
    let mut model = current.into_active_model();
    if let Some(status) = patch.status {
        model.status = Set(status.as_str().to_owned());
    }
    if let Some(expiry) = patch.expiry_date {
        model.expiry_date = Set(expiry);
    }
    if let Some(parent) = patch.parent_id_tag {
        if let Some(parent) = &parent {
            check_id_tag("parentIdTag", parent)?;
        }
        model.parent_id_tag = Set(parent);
    }
    if let Some(meta) = patch.meta_data {
        model.meta_data = Set(meta.map(|m| m.to_string()));
    }
    model.updated_at = Set(db.now_ms());
    model.update(db.conn()).await?.try_into()
}

/// Deletes the token with `_id` `id`.
///
/// # Errors
/// `NotFound` or a database failure.
pub async fn delete(db: &Db, id: &str) -> ModelResult<()> {
    let result = Entity::delete_by_id(id.to_owned()).exec(db.conn()).await?;
    if result.rows_affected == 0 {
        return Err(ModelError::NotFound("token"));
    }
    Ok(())
}

/// How the central system answers for `id_tag` now (CONTRACT §9).
///
/// # Errors
/// On database failure.
pub async fn authorize(db: &Db, id_tag: &str, accept_unknown: bool) -> ModelResult<Authorization> {
    let Some(token) = find_by_id_tag(db, id_tag).await? else {
        return Ok(Authorization {
            status: if accept_unknown {
                TokenStatus::Accepted.as_str()
            } else {
                TokenStatus::Invalid.as_str()
            },
            expiry_date: None,
            parent_id_tag: None,
        });
    };
    Ok(Authorization {
        status: token.status_at(db.now_ms()).as_str(),
        expiry_date: token.expiry_date.map(format_ms),
        parent_id_tag: token.parent_id_tag,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(status: TokenStatus, expiry_date: Option<i64>) -> Token {
        Token {
            id: "0".repeat(24),
            id_tag: "Tag".into(),
            status,
            expiry_date,
            parent_id_tag: None,
            meta_data: None,
            created_at: 0,
            updated_at: 0,
        }
    }

    #[test]
    fn accepted_tokens_past_their_expiry_date_are_expired() {
        assert_eq!(
            token(TokenStatus::Accepted, Some(1_000)).status_at(999),
            TokenStatus::Accepted
        );
        assert_eq!(
            token(TokenStatus::Accepted, Some(1_000)).status_at(1_000),
            TokenStatus::Expired
        );
        assert_eq!(
            token(TokenStatus::Blocked, Some(1_000)).status_at(2_000),
            TokenStatus::Blocked
        );
        assert_eq!(
            token(TokenStatus::Accepted, None).status_at(i64::MAX),
            TokenStatus::Accepted
        );
    }

    #[test]
    fn statuses_use_the_ocpp_spelling() {
        for status in [
            TokenStatus::Accepted,
            TokenStatus::Blocked,
            TokenStatus::Expired,
            TokenStatus::Invalid,
        ] {
            assert_eq!(TokenStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(TokenStatus::parse("accepted"), None);
        assert_eq!(TokenStatus::parse("ConcurrentTx"), None);
    }
}
