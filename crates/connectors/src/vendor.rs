//! What the vendor connectors share: one request through the hub's outbound client.

use switchboard_contract::{ConnectorError, Failure};
use switchboard_runtime::http::{OutboundRequest, OutboundResponse};
use switchboard_runtime::Call;

/// Sends `req` under the call's deadline; an error answer (as the vendor's `classify`
/// reads it) becomes a failure that keeps the response's rate-limit state.
pub(crate) async fn send_checked(
    call: &Call,
    req: OutboundRequest,
    classify: impl FnOnce(&OutboundResponse) -> Option<ConnectorError>,
) -> Result<OutboundResponse, Box<Failure>> {
    let resp = call
        .http
        .send(req, Some(call.ctx.deadline))
        .await
        .map_err(ConnectorError::from)?;
    match classify(&resp) {
        Some(error) => Err(Box::new(Failure {
            error,
            variables: Default::default(),
            rate_limit: resp.rate_limit.clone(),
        })),
        None => Ok(resp),
    }
}
