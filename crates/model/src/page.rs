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
