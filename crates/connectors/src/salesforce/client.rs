//! The Salesforce REST client: instance URL + access token, the API version path,
//! `nextRecordsUrl` kept on the instance's own origin and data path, and Salesforce
//! error arrays (`errorCode`, `message`, `fields`) mapped to contract codes.

use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;
use switchboard_contract::{ConnectorError, ErrorCode, Failure};
use switchboard_runtime::http::{error_for_status, OutboundRequest, OutboundResponse};
use switchboard_runtime::Call;
use url::Url;

pub const DEFAULT_VERSION: &str = "v60.0";
/// Every REST data call, and so every `nextRecordsUrl`, lives under this path.
pub const DATA_PATH: &str = "/services/data/";

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SalesforceConfig {
    instance_url: Option<String>,
    access_token: Option<String>,
    api_version: Option<String>,
    timeout_ms: Option<u64>,
}

pub struct Client {
    instance: Url,
    pub version: String,
    token: String,
    timeout: Duration,
}

impl Client {
    pub fn from_call(call: &Call) -> Result<Self, ConnectorError> {
        let cfg: SalesforceConfig = call.config_as()?;
        let raw = cfg
            .instance_url
            .as_deref()
            .map(str::trim)
            .unwrap_or_default();
        let instance = Url::parse(raw)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
            .ok_or_else(|| {
                ConnectorError::invalid_input(format!(
                    "instanceUrl '{raw}' is not a URL; set it to your org's instance, e.g. https://acme.my.salesforce.com"
                ))
            })?;
        let token = cfg
            .access_token
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| ConnectorError::invalid_input("the connector has no accessToken: paste a Salesforce access token (or sign in with OAuth)"))?
            .to_string();
        let version = cfg.api_version.unwrap_or_else(|| DEFAULT_VERSION.into());
        let version = if version.starts_with('v') {
            version
        } else {
            format!("v{version}")
        };
        let valid = version[1..].split('.').count() == 2
            && version[1..]
                .split('.')
                .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()));
        if !valid {
            return Err(ConnectorError::invalid_input(format!(
                "apiVersion '{version}' must look like v60.0"
            )));
        }
        Ok(Client {
            instance,
            version,
            token,
            timeout: Duration::from_millis(cfg.timeout_ms.unwrap_or(30_000).max(1)),
        })
    }

    fn origin(&self) -> String {
        self.instance.origin().ascii_serialization()
    }

    /// A request to `path` (from `/services/…`) on the instance.
    pub fn request(&self, method: http::Method, path: &str) -> OutboundRequest {
        OutboundRequest::new(method, format!("{}{path}", self.origin()))
            .header("Accept", "application/json")
            .bearer(&self.token)
            .timeout(self.timeout)
    }

    /// `/services/data/vXX.X` + `rest`.
    pub fn data(&self, method: http::Method, rest: &str) -> OutboundRequest {
        self.request(method, &format!("{DATA_PATH}{}{rest}", self.version))
    }

    /// Checks a `nextRecordsUrl` (relative, or absolute on the instance) and returns
    /// the request for it; anything else is refused and never sent.
    pub fn follow(&self, next: &str) -> Result<OutboundRequest, ConnectorError> {
        let path = safe_next_path(&self.instance, next).ok_or_else(|| {
            ConnectorError::invalid_input(
                "the cursor does not point at this org's query results; drop it and run the query again",
            )
        })?;
        Ok(self.request(http::Method::GET, &path))
    }

    pub async fn send(
        &self,
        call: &Call,
        req: OutboundRequest,
    ) -> Result<OutboundResponse, Box<Failure>> {
        crate::vendor::send_checked(call, req, vendor_error).await
    }
}

/// The path of a `nextRecordsUrl` when it stays on `instance` and under
/// `/services/data/`; `None` otherwise (another host, a scheme-relative URL,
/// dot segments, encoded slashes or backslashes).
pub fn safe_next_path(instance: &Url, next: &str) -> Option<String> {
    let next = next.trim();
    let resolved = if next.starts_with('/') && !next.starts_with("//") {
        instance.join(next).ok()?
    } else {
        let u = Url::parse(next).ok()?;
        (u.origin() == instance.origin()).then_some(u)?
    };
    let raw_path = next.split(['?', '#']).next().unwrap_or_default();
    let lower = raw_path.to_ascii_lowercase();
    if lower.contains("..")
        || lower.contains("%2f")
        || lower.contains("%2e")
        || lower.contains('\\')
        || lower.contains("%5c")
    {
        return None;
    }
    if resolved.origin() != instance.origin()
        || !resolved.path().starts_with(DATA_PATH)
        || !resolved.username().is_empty()
    {
        return None;
    }
    let mut out = resolved.path().to_string();
    if let Some(q) = resolved.query() {
        out.push('?');
        out.push_str(q);
    }
    Some(out)
}

/// The contract code for a Salesforce `errorCode`, when it decides it.
fn code_for(vendor: &str) -> Option<ErrorCode> {
    Some(match vendor {
        "INVALID_SESSION_ID" | "INVALID_AUTH_HEADER" => ErrorCode::Unauthorized,
        "REQUEST_LIMIT_EXCEEDED" | "CONCURRENT_REQUEST_LIMIT_EXCEEDED" => ErrorCode::RateLimited,
        "NOT_FOUND" | "ENTITY_IS_DELETED" => ErrorCode::NotFound,
        "INSUFFICIENT_ACCESS"
        | "INSUFFICIENT_ACCESS_OR_READONLY"
        | "INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY"
        | "API_DISABLED_FOR_ORG"
        | "FUNCTIONALITY_NOT_ENABLED" => ErrorCode::Forbidden,
        "DUPLICATE_VALUE" | "DUPLICATES_DETECTED" | "ENTITY_IS_LOCKED" | "UNABLE_TO_LOCK_ROW" => {
            ErrorCode::Conflict
        }
        "MALFORMED_QUERY"
        | "INVALID_FIELD"
        | "INVALID_TYPE"
        | "REQUIRED_FIELD_MISSING"
        | "FIELD_CUSTOM_VALIDATION_EXCEPTION"
        | "INVALID_QUERY_LOCATOR"
        | "MALFORMED_ID"
        | "INVALID_ID_FIELD"
        | "JSON_PARSER_ERROR"
        | "STRING_TOO_LONG"
        | "INVALID_FIELD_FOR_INSERT_UPDATE"
        | "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
        | "INVALID_CROSS_REFERENCE_KEY"
        | "FIELD_INTEGRITY_EXCEPTION" => ErrorCode::InvalidInput,
        "SERVER_UNAVAILABLE" => ErrorCode::Unavailable,
        _ => return None,
    })
}

/// Salesforce answers errors as `[{"errorCode", "message", "fields"}]`.
pub fn vendor_error(resp: &OutboundResponse) -> Option<ConnectorError> {
    let mut err = error_for_status(resp, "Salesforce")?;
    let body = resp.json_value();
    let first = body
        .as_array()
        .and_then(|a| a.first())
        .cloned()
        .unwrap_or(Value::Null);
    let vendor = first["errorCode"].as_str().unwrap_or_default().to_string();
    if let Some(code) = code_for(&vendor) {
        if code != err.code {
            let retry = resp.retry_after_ms;
            err = match code {
                ErrorCode::RateLimited => ConnectorError::rate_limited("", retry.or(Some(60_000))),
                c => ConnectorError::new(c, ""),
            }
            .with_diagnostics(err.diagnostics.clone().unwrap_or(Value::Null));
        }
    }
    let messages: Vec<String> = body
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|e| e["message"].as_str())
                .map(|m| {
                    m.split("\nERROR at")
                        .last()
                        .unwrap_or(m)
                        .trim()
                        .replace('\n', " ")
                })
                .collect()
        })
        .unwrap_or_default();
    let fields: Vec<&str> = first["fields"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let hint = match (err.code, vendor.as_str()) {
        (_, "MALFORMED_QUERY") | (_, "INVALID_FIELD") | (_, "INVALID_TYPE") => {
            " Fix the SOQL or field names (describe_object lists them) and call again."
        }
        (ErrorCode::Unauthorized, _) => {
            " The access token expired or is invalid; refresh accessToken."
        }
        (ErrorCode::RateLimited, _) => {
            " The org's API request limit is used up; wait retryAfterMs."
        }
        (ErrorCode::NotFound, _) => " Check the object name (list_objects) and the record id.",
        (ErrorCode::InvalidInput, _) => " Change the named fields and call again.",
        _ => "",
    };
    let label = if vendor.is_empty() {
        resp.status.to_string()
    } else {
        vendor.clone()
    };
    let mut text = format!("Salesforce rejected the request ({label})");
    if !messages.is_empty() {
        text.push_str(&format!(": {}", messages.join("; ").trim_end_matches('.')));
    }
    if !fields.is_empty() {
        text.push_str(&format!(" [fields: {}]", fields.join(", ")));
    }
    err.message = format!("{text}.{hint}");
    err.vendor_code = Some(if vendor.is_empty() {
        resp.status.to_string()
    } else {
        vendor
    });
    Some(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_records_url_stays_on_the_instance_data_path() {
        let inst = Url::parse("https://acme.my.salesforce.com").unwrap();
        assert_eq!(
            safe_next_path(&inst, "/services/data/v60.0/query/01gxx-2000").as_deref(),
            Some("/services/data/v60.0/query/01gxx-2000")
        );
        assert!(safe_next_path(
            &inst,
            "https://acme.my.salesforce.com/services/data/v60.0/query/x"
        )
        .is_some());
        for bad in [
            "https://evil.example/services/data/v60.0/query/x",
            "//evil.example/services/data/v60.0/query/x",
            "http://acme.my.salesforce.com/services/data/v60.0/query/x",
            "/services/data/../../secur/frontdoor.jsp",
            "/services/data/%2e%2e/apex/x",
            "/services/apexrest/x",
            "/services/data\\..\\x",
            "https://acme.my.salesforce.com@evil.example/services/data/x",
            "javascript:alert(1)",
        ] {
            assert_eq!(safe_next_path(&inst, bad), None, "{bad}");
        }
    }
}
