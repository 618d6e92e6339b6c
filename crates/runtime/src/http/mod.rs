//! The outbound HTTP client every connector uses.
//!
//! * [`NetworkPolicy`] decides which addresses connectors may reach: loopback,
//!   private, link-local, metadata and other special-purpose addresses are
//!   refused unless allowlisted with `SWITCHBOARD_ALLOW_NETWORKS`. It is
//!   enforced after DNS resolution by a custom resolver, so the addresses the
//!   connection uses are exactly the ones that were checked (no DNS rebinding),
//!   and on IP-literal URLs and redirect targets before anything is sent.
//! * [`OutboundClient`] sends [`OutboundRequest`]s with timeouts, bounded
//!   response bodies, retries of idempotent requests (honouring `Retry-After`
//!   and the caller's deadline) and rate-limit header parsing.
//! * [`error_for_status`] maps a non-2xx vendor answer onto a
//!   [`ConnectorError`](switchboard_contract::error::ConnectorError).
//!
//! Error messages never contain query strings or header values: URLs are shown
//! as `scheme://host/path` only.

mod client;
mod error;
mod policy;
mod ratelimit;

pub use client::{
    OutboundClient, OutboundConfig, OutboundRequest, OutboundResponse, RequestBody, MAX_REDIRECTS,
};
pub use error::{error_for_status, redact_url, OutboundError};
pub use policy::{NetworkPolicy, NetworkPolicyError, PolicyDenied, ALLOW_NETWORKS_ENV};
pub use ratelimit::{parse_rate_limit, parse_rate_limit_at, parse_retry_after, retry_hint_ms};
