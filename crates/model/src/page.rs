//! Pagination and sorting of list endpoints (CONTRACT §1).

/// One page of a list: `paginate_limit` (1–1000), `paginate_page` (1-based),
/// `sort_by`, `sort_order`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    pub limit: u64,
    pub page: u64,
    pub sort_by: SortField,
    pub descending: bool,
}

/// Fields lists may be sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortField {
    CreatedAt,
    UpdatedAt,
}

impl SortField {
    /// Reads an API field name.
    pub fn parse(text: &str) -> Option<SortField> {
        match text {
            "createdAt" | "created_at" => Some(SortField::CreatedAt),
            "updatedAt" | "updated_at" => Some(SortField::UpdatedAt),
            _ => None,
        }
    }
}

impl Default for Page {
    fn default() -> Self {
        Page {
            limit: 20,
            page: 1,
            sort_by: SortField::CreatedAt,
            descending: true,
        }
    }
}

impl Page {
    /// Rows to skip.
    pub fn offset(&self) -> u64 {
        (self.page.saturating_sub(1)).saturating_mul(self.limit)
    }
}

/// Fetches one page of `query` and the total count, sorted by the page's field
/// (`created` or `updated` column) with `tie` as the tie-breaker, in the page's order.
///
/// # Errors
/// On database failure.
pub async fn fetch<E, C>(
    db: &crate::Db,
    query: sea_orm::Select<E>,
    page: &Page,
    created: C,
    updated: C,
    tie: C,
) -> crate::ModelResult<(Vec<E::Model>, u64)>
where
    E: sea_orm::EntityTrait,
    E::Model: Sync,
    C: sea_orm::ColumnTrait,
{
    use sea_orm::{QueryOrder, QuerySelect};
    let total = count(db.conn(), query.clone()).await?;
    let column = match page.sort_by {
        SortField::CreatedAt => created,
        SortField::UpdatedAt => updated,
    };
    let order = if page.descending {
        sea_orm::Order::Desc
    } else {
        sea_orm::Order::Asc
    };
    let rows = query
        .order_by(column, order.clone())
        .order_by(tie, order)
        .offset(page.offset())
        .limit(page.limit)
        .all(db.conn())
        .await?;
    Ok((rows, total))
}

/// How many rows `query` selects, as one `SELECT COUNT(*)`. (sea-orm's own `count`
/// reads its result as `i32` on SQLite, which the in-place SQLite rows do not give:
/// see `crate::sqlite`.)
///
/// # Errors
/// On database failure.
pub async fn count<E, C>(conn: &C, query: sea_orm::Select<E>) -> crate::ModelResult<u64>
where
    E: sea_orm::EntityTrait,
    C: sea_orm::ConnectionTrait,
{
    use sea_orm::QuerySelect;
    let counted: Option<i64> = query
        .select_only()
        .column_as(sea_orm::sea_query::Expr::cust("COUNT(*)"), "counted")
        .into_tuple()
        .one(conn)
        .await?;
    Ok(counted.map_or(0, |n| u64::try_from(n).unwrap_or(0)))
}
