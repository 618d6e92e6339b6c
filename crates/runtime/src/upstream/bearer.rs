//! Bearer tokens that change while a session lives: an OAuth access token the hub
//! refreshes, or one an interactive client obtains when the server first says 401.

use futures::future::BoxFuture;

/// Where a remote upstream's `Authorization: Bearer` comes from when it is not a
/// fixed `accessToken`. Asked before every request, so it should answer from memory.
pub trait BearerSource: Send + Sync + 'static {
    /// The token to send now; `None` sends no Authorization header (the server's
    /// 401 then starts [`BearerSource::refused`]).
    fn current(&self) -> BoxFuture<'_, Result<Option<String>, String>>;

    /// The server refused `sent` with HTTP `status` (401: missing, expired or revoked;
    /// 403: insufficient scope) and this `WWW-Authenticate` challenge. Returns a token
    /// worth one more try, or why there is none.
    fn refused<'a>(
        &'a self,
        sent: Option<&'a str>,
        status: u16,
        challenge: &'a str,
    ) -> BoxFuture<'a, Result<String, String>>;
}

/// How many times one request is retried with a new token before the refusal stands
/// (a 401 answered, then a 403 step-up answered, is two).
pub const MAX_AUTH_RETRIES: usize = 2;
