//! Authorize: answers from the token list (`/v1.1/tokens`); an idTag not in it is
//! `Accepted` while `CSMS_ACCEPT_UNKNOWN_TOKENS` is true, else `Invalid`.

use model::tokens;
use ocpp::v16::{AuthorizationStatus, AuthorizeRequest, AuthorizeResponse, IdTagInfo};

use super::{HandlerContext, HandlerError};

/// The `IdTagInfo` for an idTag, from the token list and the unknown-token policy.
///
/// # Errors
/// On storage failure.
pub(crate) async fn id_tag_info(
    ctx: &HandlerContext,
    id_tag: &str,
) -> Result<IdTagInfo, HandlerError> {
    let answer = tokens::authorize(
        &ctx.shared.db,
        id_tag,
        ctx.shared.config.accept_unknown_tokens,
    )
    .await?;
    Ok(IdTagInfo {
        expiry_date: answer.expiry_date,
        parent_id_tag: answer.parent_id_tag,
        status: AuthorizationStatus::parse(answer.status),
    })
}

pub(super) async fn handle(
    ctx: &HandlerContext,
    req: AuthorizeRequest,
) -> Result<AuthorizeResponse, HandlerError> {
    Ok(AuthorizeResponse {
        id_tag_info: id_tag_info(ctx, &req.id_tag).await?,
    })
}
