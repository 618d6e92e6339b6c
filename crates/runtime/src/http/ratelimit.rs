//! Rate-limit and `Retry-After` header parsing across the header families
//! vendors use.

use ::http::HeaderMap;
use chrono::{DateTime, NaiveDateTime, SecondsFormat, TimeZone, Utc};
use switchboard_contract::envelope::RateLimit;

/// Values at or above this are epoch seconds rather than delta seconds.
const EPOCH_SECONDS_THRESHOLD: f64 = 1_000_000_000.0;
/// Values at or above this are epoch milliseconds.
const EPOCH_MILLIS_THRESHOLD: f64 = 100_000_000_000.0;

#[derive(Debug, Default, Clone, Copy, PartialEq)]
struct Parsed {
    limit: Option<u64>,
    remaining: Option<u64>,
    reset: Option<DateTime<Utc>>,
}

impl Parsed {
    fn is_empty(&self) -> bool {
        self.limit.is_none() && self.remaining.is_none() && self.reset.is_none()
    }

    /// Fills the fields still missing from `other`.
    fn or(self, other: Parsed) -> Parsed {
        Parsed {
            limit: self.limit.or(other.limit),
            remaining: self.remaining.or(other.remaining),
            reset: self.reset.or(other.reset),
        }
    }
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

/// The leading number of a header value such as `100`, `"100"`, `1.5` or `100, 100;w=60`.
fn leading_number(value: &str) -> Option<f64> {
    let first = value
        .split([',', ';'])
        .next()?
        .trim()
        .trim_matches('"')
        .trim();
    let n: f64 = first.parse().ok()?;
    (n.is_finite() && n >= 0.0).then_some(n)
}

fn to_u64(n: f64) -> u64 {
    // Saturating float-to-int conversion; inputs are finite and non-negative.
    n.floor() as u64
}

fn after(now: DateTime<Utc>, seconds: f64) -> Option<DateTime<Utc>> {
    let ms = (seconds * 1000.0).round();
    if ms > i64::MAX as f64 / 2.0 {
        return None;
    }
    now.checked_add_signed(chrono::Duration::milliseconds(ms as i64))
}

fn epoch(seconds: f64) -> Option<DateTime<Utc>> {
    Utc.timestamp_millis_opt((seconds * 1000.0).round() as i64)
        .single()
}

/// A reset value that is epoch seconds (or milliseconds) when large, delta seconds otherwise.
fn reset_auto(value: f64, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    if value >= EPOCH_MILLIS_THRESHOLD {
        epoch(value / 1000.0)
    } else if value >= EPOCH_SECONDS_THRESHOLD {
        epoch(value)
    } else {
        after(now, value)
    }
}

/// `X-RateLimit-*` (GitHub, most vendors) and `X-Rate-Limit-*` (Twitter/X).
fn parse_x_family(headers: &HeaderMap, prefix: &str, now: DateTime<Utc>) -> Parsed {
    let num = |suffix: &str| header(headers, &format!("{prefix}{suffix}")).and_then(leading_number);
    Parsed {
        limit: num("limit").map(to_u64),
        remaining: num("remaining").map(to_u64),
        reset: num("reset")
            .and_then(|v| reset_auto(v, now))
            .or_else(|| num("reset-after").and_then(|v| after(now, v))),
    }
}

/// IETF `RateLimit-Limit`, `RateLimit-Remaining`, `RateLimit-Reset` (delta seconds).
fn parse_ietf_split(headers: &HeaderMap, now: DateTime<Utc>) -> Parsed {
    let num = |name: &str| header(headers, name).and_then(leading_number);
    Parsed {
        limit: num("ratelimit-limit").map(to_u64),
        remaining: num("ratelimit-remaining").map(to_u64),
        reset: num("ratelimit-reset").and_then(|v| reset_auto(v, now)),
    }
}

fn key_values(value: &str) -> impl Iterator<Item = (String, &str)> {
    value.split([',', ';']).filter_map(|item| {
        let (k, v) = item.split_once('=')?;
        Some((k.trim().to_ascii_lowercase(), v.trim().trim_matches('"')))
    })
}

/// The combined IETF draft header: `RateLimit: limit=100, remaining=42, reset=30`,
/// or the later structured form `RateLimit: "default";r=42;t=30` with the limit
/// in `RateLimit-Policy: "default";q=100;w=60` (or `100;w=60`).
fn parse_ietf_combined(headers: &HeaderMap, now: DateTime<Utc>) -> Parsed {
    let mut parsed = Parsed::default();
    if let Some(value) = header(headers, "ratelimit") {
        for (key, v) in key_values(value) {
            let Some(n) = leading_number(v) else { continue };
            match key.as_str() {
                "limit" | "l" | "q" => parsed.limit = parsed.limit.or(Some(to_u64(n))),
                "remaining" | "r" => parsed.remaining = parsed.remaining.or(Some(to_u64(n))),
                "reset" | "t" => parsed.reset = parsed.reset.or_else(|| after(now, n)),
                _ => {}
            }
        }
    }
    if parsed.limit.is_none() {
        if let Some(policy) = header(headers, "ratelimit-policy") {
            parsed.limit = key_values(policy)
                .find(|(k, _)| k == "q")
                .and_then(|(_, v)| leading_number(v))
                .or_else(|| leading_number(policy))
                .map(to_u64);
        }
    }
    parsed
}

/// `used/limit` headers: Salesforce `Sforce-Limit-Info: api-usage=25/15000`,
/// Shopify `X-Shopify-Shop-Api-Call-Limit: 32/40`.
fn parse_usage_ratio(headers: &HeaderMap) -> Parsed {
    let ratio = |value: &str| -> Option<(u64, u64)> {
        let value = value.split(',').next()?;
        let value = value.split_once('=').map_or(value, |(_, v)| v);
        let (used, limit) = value.split_once('/')?;
        Some((used.trim().parse().ok()?, limit.trim().parse().ok()?))
    };
    header(headers, "sforce-limit-info")
        .and_then(ratio)
        .or_else(|| header(headers, "x-shopify-shop-api-call-limit").and_then(ratio))
        .map(|(used, limit)| Parsed {
            limit: Some(limit),
            remaining: Some(limit.saturating_sub(used)),
            reset: None,
        })
        .unwrap_or_default()
}

fn parse_all(headers: &HeaderMap, now: DateTime<Utc>) -> Parsed {
    parse_ietf_combined(headers, now)
        .or(parse_ietf_split(headers, now))
        .or(parse_x_family(headers, "x-ratelimit-", now))
        .or(parse_x_family(headers, "x-rate-limit-", now))
        .or(parse_usage_ratio(headers))
}

/// The vendor's rate-limit snapshot, from whichever header family it sends
/// (`RateLimit`, `RateLimit-*`, `X-RateLimit-*`, `X-Rate-Limit-*`,
/// `Sforce-Limit-Info`, `X-Shopify-Shop-Api-Call-Limit`). `None` when it sends none.
pub fn parse_rate_limit(headers: &HeaderMap) -> Option<RateLimit> {
    parse_rate_limit_at(headers, Utc::now())
}

/// [`parse_rate_limit`] with an explicit "now" (for delta-seconds resets).
pub fn parse_rate_limit_at(headers: &HeaderMap, now: DateTime<Utc>) -> Option<RateLimit> {
    let parsed = parse_all(headers, now);
    if parsed.is_empty() {
        return None;
    }
    Some(RateLimit {
        limit: parsed.limit,
        remaining: parsed.remaining,
        reset_at: parsed
            .reset
            .map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true)),
    })
}

fn parse_http_date(value: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc2822(value) {
        return Some(t.with_timezone(&Utc));
    }
    // Obsolete forms RFC 9110 still requires recipients to accept.
    for format in ["%A, %d-%b-%y %H:%M:%S GMT", "%a %b %e %H:%M:%S %Y"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(value, format) {
            return Some(t.and_utc());
        }
    }
    None
}

fn millis_until(t: DateTime<Utc>, now: DateTime<Utc>) -> u64 {
    u64::try_from((t - now).num_milliseconds()).unwrap_or(0)
}

/// How long the vendor asks us to wait, in milliseconds: `Retry-After`
/// (delta-seconds or HTTP-date), or the millisecond variants `retry-after-ms`
/// / `x-ms-retry-after-ms`. A date in the past gives 0.
pub fn parse_retry_after(headers: &HeaderMap, now: DateTime<Utc>) -> Option<u64> {
    for name in ["retry-after-ms", "x-ms-retry-after-ms"] {
        if let Some(ms) = header(headers, name).and_then(leading_number) {
            return Some(ms.ceil() as u64);
        }
    }
    let value = header(headers, "retry-after")?;
    if let Ok(seconds) = value.parse::<f64>() {
        return (seconds.is_finite() && seconds >= 0.0).then(|| (seconds * 1000.0).ceil() as u64);
    }
    parse_http_date(value).map(|t| millis_until(t, now))
}

/// The retry hint for a response: [`parse_retry_after`], or else — on a 429,
/// or a 403 whose rate-limit headers say nothing remains (GitHub's way of
/// signalling an exhausted quota) — the time until the rate-limit reset.
pub fn retry_hint_ms(status: u16, headers: &HeaderMap, now: DateTime<Utc>) -> Option<u64> {
    if let Some(ms) = parse_retry_after(headers, now) {
        return Some(ms);
    }
    let parsed = parse_all(headers, now);
    let exhausted = match status {
        429 => parsed.remaining.is_none_or(|r| r == 0),
        403 => parsed.remaining == Some(0),
        _ => false,
    };
    if exhausted {
        parsed.reset.map(|t| millis_until(t, now))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ::http::{HeaderName, HeaderValue};

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.append(
                HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        map
    }

    fn now() -> DateTime<Utc> {
        "2024-05-01T12:00:00Z".parse().unwrap()
    }

    fn rl(limit: Option<u64>, remaining: Option<u64>, reset_at: Option<&str>) -> Option<RateLimit> {
        Some(RateLimit {
            limit,
            remaining,
            reset_at: reset_at.map(str::to_string),
        })
    }

    #[test]
    fn no_headers_no_rate_limit() {
        assert_eq!(
            parse_rate_limit_at(&headers(&[("content-type", "text/plain")]), now()),
            None
        );
        assert_eq!(parse_rate_limit(&HeaderMap::new()), None);
    }

    #[test]
    fn github_x_ratelimit_epoch_reset() {
        let h = headers(&[
            ("X-RateLimit-Limit", "5000"),
            ("X-RateLimit-Remaining", "4987"),
            ("X-RateLimit-Reset", "1714565400"), // 2024-05-01T12:10:00Z
            ("X-RateLimit-Used", "13"),
        ]);
        assert_eq!(
            parse_rate_limit_at(&h, now()),
            rl(Some(5000), Some(4987), Some("2024-05-01T12:10:00Z"))
        );
    }

    #[test]
    fn x_ratelimit_delta_and_reset_after() {
        let h = headers(&[("x-ratelimit-remaining", "3"), ("x-ratelimit-reset", "30")]);
        assert_eq!(
            parse_rate_limit_at(&h, now()),
            rl(None, Some(3), Some("2024-05-01T12:00:30Z"))
        );
        let h = headers(&[
            ("x-ratelimit-limit", "5"),
            ("x-ratelimit-reset-after", "1.5"),
        ]);
        assert_eq!(
            parse_rate_limit_at(&h, now()),
            rl(Some(5), None, Some("2024-05-01T12:00:01Z"))
        );
    }

    #[test]
    fn twitter_x_rate_limit() {
        let h = headers(&[
            ("x-rate-limit-limit", "900"),
            ("x-rate-limit-remaining", "899"),
            ("x-rate-limit-reset", "1714566000"), // 12:20:00Z
        ]);
        assert_eq!(
            parse_rate_limit_at(&h, now()),
            rl(Some(900), Some(899), Some("2024-05-01T12:20:00Z"))
        );
    }

    #[test]
    fn ietf_split_headers_delta_reset() {
        let h = headers(&[
            ("RateLimit-Limit", "100, 100;w=60"),
            ("RateLimit-Remaining", "42"),
            ("RateLimit-Reset", "30"),
        ]);
        assert_eq!(
            parse_rate_limit_at(&h, now()),
            rl(Some(100), Some(42), Some("2024-05-01T12:00:30Z"))
        );
    }

    #[test]
    fn ietf_combined_header() {
        let h = headers(&[("RateLimit", "limit=100, remaining=42, reset=30")]);
        assert_eq!(
            parse_rate_limit_at(&h, now()),
            rl(Some(100), Some(42), Some("2024-05-01T12:00:30Z"))
        );
        let h = headers(&[
            ("RateLimit", "\"default\";r=7;t=90"),
            ("RateLimit-Policy", "\"default\";q=10;w=60"),
        ]);
        assert_eq!(
            parse_rate_limit_at(&h, now()),
            rl(Some(10), Some(7), Some("2024-05-01T12:01:30Z"))
        );
    }

    #[test]
    fn salesforce_and_shopify_usage() {
        let h = headers(&[("Sforce-Limit-Info", "api-usage=25/15000")]);
        assert_eq!(
            parse_rate_limit_at(&h, now()),
            rl(Some(15000), Some(14975), None)
        );
        let h = headers(&[("X-Shopify-Shop-Api-Call-Limit", "32/40")]);
        assert_eq!(parse_rate_limit_at(&h, now()), rl(Some(40), Some(8), None));
    }

    #[test]
    fn garbage_is_ignored() {
        let h = headers(&[
            ("x-ratelimit-limit", "lots"),
            ("x-ratelimit-remaining", "-1"),
            ("sforce-limit-info", "api-usage=abc"),
        ]);
        assert_eq!(parse_rate_limit_at(&h, now()), None);
    }

    #[test]
    fn retry_after_seconds_and_dates() {
        assert_eq!(
            parse_retry_after(&headers(&[("Retry-After", "120")]), now()),
            Some(120_000)
        );
        assert_eq!(
            parse_retry_after(&headers(&[("Retry-After", "0")]), now()),
            Some(0)
        );
        assert_eq!(
            parse_retry_after(
                &headers(&[("Retry-After", "Wed, 01 May 2024 12:00:05 GMT")]),
                now()
            ),
            Some(5_000)
        );
        assert_eq!(
            parse_retry_after(
                &headers(&[("Retry-After", "Wednesday, 01-May-24 12:01:00 GMT")]),
                now()
            ),
            Some(60_000)
        );
        assert_eq!(
            parse_retry_after(
                &headers(&[("Retry-After", "Wed May  1 12:00:10 2024")]),
                now()
            ),
            Some(10_000)
        );
        // A date in the past means "now".
        assert_eq!(
            parse_retry_after(
                &headers(&[("Retry-After", "Tue, 30 Apr 2024 12:00:00 GMT")]),
                now()
            ),
            Some(0)
        );
        assert_eq!(
            parse_retry_after(&headers(&[("retry-after-ms", "250")]), now()),
            Some(250)
        );
        assert_eq!(
            parse_retry_after(&headers(&[("Retry-After", "soon")]), now()),
            None
        );
        assert_eq!(
            parse_retry_after(&headers(&[("Retry-After", "-5")]), now()),
            None
        );
        assert_eq!(parse_retry_after(&HeaderMap::new(), now()), None);
    }

    #[test]
    fn retry_hint_uses_github_reset_when_exhausted() {
        let exhausted = headers(&[
            ("x-ratelimit-limit", "60"),
            ("x-ratelimit-remaining", "0"),
            ("x-ratelimit-reset", "1714564830"), // 12:00:30Z
        ]);
        assert_eq!(retry_hint_ms(403, &exhausted, now()), Some(30_000));
        assert_eq!(retry_hint_ms(429, &exhausted, now()), Some(30_000));
        assert_eq!(retry_hint_ms(200, &exhausted, now()), None);
        assert_eq!(retry_hint_ms(500, &exhausted, now()), None);

        let remaining = headers(&[
            ("x-ratelimit-remaining", "5"),
            ("x-ratelimit-reset", "1714564830"),
        ]);
        assert_eq!(retry_hint_ms(403, &remaining, now()), None);

        let mut both = exhausted.clone();
        both.insert("retry-after", HeaderValue::from_static("7"));
        assert_eq!(retry_hint_ms(403, &both, now()), Some(7_000));
    }
}
