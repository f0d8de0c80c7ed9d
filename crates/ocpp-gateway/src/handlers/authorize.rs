//! Authorize: answers from the token policy (`CSMS_ACCEPT_UNKNOWN_TOKENS`).

use ocpp::v16::{AuthorizationStatus, AuthorizeRequest, AuthorizeResponse, IdTagInfo};

use super::{HandlerContext, HandlerError};

/// The status for an idTag: every tag is unknown until the token list exists.
pub(crate) fn id_tag_status(ctx: &HandlerContext, _id_tag: &str) -> AuthorizationStatus {
    if ctx.shared.config.accept_unknown_tokens {
        AuthorizationStatus::Accepted
    } else {
        AuthorizationStatus::Invalid
    }
}

pub(super) async fn handle(
    ctx: &HandlerContext,
    req: AuthorizeRequest,
) -> Result<AuthorizeResponse, HandlerError> {
    Ok(AuthorizeResponse {
        id_tag_info: IdTagInfo::new(id_tag_status(ctx, &req.id_tag)),
    })
}
