//! `http`: a generic request to a configured base URL, with the auth header options
//! most APIs take. Paths are relative so a model cannot point the credential elsewhere.

use serde::Deserialize;
use serde_json::{json, Map, Value};
use switchboard_contract::{
    fail, Access, CommandSpec, ConnectorError, FieldKind, FieldSpec, Outcome, Success,
};
use switchboard_runtime::http::{error_for_status, OutboundRequest, OutboundResponse, RequestBody};
use switchboard_runtime::{Call, Definition};

pub fn definition() -> Definition {
    Definition::builder("http", "1.0.0", "Generic HTTP API: send requests to one configured base URL with a stored credential.")
        .category("utility")
        .tags(&["http", "rest", "generic"])
        .config(FieldSpec::string("baseUrl").required().describe("Base URL every path is appended to, e.g. https://api.example.com/v1"))
        .config(FieldSpec::new("authType", FieldKind::select(["none", "bearer", "basic", "header", "oauth"])).default_value("none").describe("How to authenticate: none, bearer token, basic (username and password), a custom header, or oauth (the hub supplies the connected account's access token)."))
        .config(FieldSpec::secret("accessToken").describe("OAuth access token (authType oauth); the hub fills it from the connected account on every call."))
        .config(FieldSpec::secret("token").describe("Bearer token (authType bearer)."))
        .config(FieldSpec::string("username").describe("Username (authType basic)."))
        .config(FieldSpec::secret("password").describe("Password (authType basic)."))
        .config(FieldSpec::string("headerName").describe("Header name (authType header), e.g. X-API-Key."))
        .config(FieldSpec::secret("headerValue").describe("Header value (authType header)."))
        .config(FieldSpec::string("healthPath").default_value("/").describe("Path the health check GETs."))
        .default_command("request")
        .command(
            CommandSpec::new("health", Access::Read, "Check the API answers at healthPath with the configured credential; returns the HTTP status.")
                .outputs(["status"])
                .mock_payload("default", json!({"status": 200, "reachable": true})),
            health,
        )
        .command(
            CommandSpec::new("get", Access::Read, "GET a path under the base URL (e.g. /users/42) with optional query parameters; returns status, content type and body (JSON when the API sends JSON).")
                .param(FieldSpec::string("path").required().describe("Path under the base URL, starting with '/'."))
                .param(FieldSpec::json("query").describe("Query parameters as an object of strings or numbers."))
                .param(FieldSpec::json("headers").describe("Extra request headers as an object of strings."))
                .projection()
                .outputs(["status", "body"])
                .mock_payload("default", json!({"status": 200, "contentType": "application/json", "body": {}})),
            get,
        )
        .command(
            CommandSpec::new("request", Access::Write, "Send any HTTP method (GET, POST, PUT, PATCH, DELETE) to a path under the base URL with an optional JSON body; returns status, content type and body. Writes are not retried.")
                .param(FieldSpec::new("method", FieldKind::select(["GET", "POST", "PUT", "PATCH", "DELETE"])).default_value("GET").describe("HTTP method."))
                .param(FieldSpec::string("path").required().describe("Path under the base URL, starting with '/'."))
                .param(FieldSpec::json("query").describe("Query parameters as an object of strings or numbers."))
                .param(FieldSpec::json("headers").describe("Extra request headers as an object of strings."))
                .param(FieldSpec::json("body").describe("JSON request body."))
                .idempotency_key()
                .outputs(["status", "body"])
                .mock_payload("default", json!({"status": 200, "contentType": "application/json", "body": {}})),
            request,
        )
        .build()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct HttpConfig {
    base_url: String,
    #[serde(default)]
    auth_type: Option<String>,
    token: Option<String>,
    access_token: Option<String>,
    username: Option<String>,
    password: Option<String>,
    header_name: Option<String>,
    header_value: Option<String>,
    #[serde(default)]
    health_path: Option<String>,
}

#[derive(Deserialize)]
struct RequestParams {
    #[serde(default)]
    method: Option<String>,
    path: String,
    #[serde(default)]
    query: Option<Value>,
    #[serde(default)]
    headers: Option<Value>,
    #[serde(default)]
    body: Option<Value>,
}

/// Joins base URL and path, refusing anything that would leave the base URL.
fn join(base: &str, path: &str) -> Result<String, ConnectorError> {
    if !path.starts_with('/')
        || path.starts_with("//")
        || path.contains("://")
        || path.contains('\\')
    {
        return Err(ConnectorError::invalid_input(format!(
            "path '{path}' must be a path under the base URL, starting with a single '/'"
        )));
    }
    if path.split('/').any(|seg| seg == "..") {
        return Err(ConnectorError::invalid_input(
            "path must not contain '..' segments",
        ));
    }
    Ok(format!("{}{}", base.trim_end_matches('/'), path))
}

fn string_pairs(v: &Option<Value>, what: &str) -> Result<Vec<(String, String)>, ConnectorError> {
    let Some(v) = v else { return Ok(Vec::new()) };
    let obj = v
        .as_object()
        .ok_or_else(|| ConnectorError::invalid_input(format!("{what} must be an object")))?;
    obj.iter()
        .map(|(k, v)| match v {
            Value::String(s) => Ok((k.clone(), s.clone())),
            Value::Number(n) => Ok((k.clone(), n.to_string())),
            Value::Bool(b) => Ok((k.clone(), b.to_string())),
            _ => Err(ConnectorError::invalid_input(format!(
                "{what} '{k}' must be a string, number or boolean"
            ))),
        })
        .collect()
}

fn authorize(
    mut req: OutboundRequest,
    cfg: &HttpConfig,
) -> Result<OutboundRequest, ConnectorError> {
    let missing = |f: &str| {
        ConnectorError::invalid_input(format!(
            "authType needs the '{f}' config field; set it on the connector"
        ))
    };
    req = match cfg.auth_type.as_deref().unwrap_or("none") {
        "bearer" => req.bearer(cfg.token.as_deref().ok_or_else(|| missing("token"))?),
        "oauth" => req.bearer(cfg.access_token.as_deref().ok_or_else(|| {
            ConnectorError::new(
                switchboard_contract::ErrorCode::Unauthorized,
                "no OAuth account is connected; connect one with POST /api/oauth/start",
            )
        })?),
        "basic" => req.basic(
            cfg.username.as_deref().ok_or_else(|| missing("username"))?,
            cfg.password.as_deref().unwrap_or(""),
        ),
        "header" => req.header(
            cfg.header_name
                .as_deref()
                .ok_or_else(|| missing("headerName"))?,
            cfg.header_value
                .as_deref()
                .ok_or_else(|| missing("headerValue"))?,
        ),
        _ => req,
    };
    Ok(req)
}

async fn send(
    call: &Call,
    method: &str,
    p: RequestParams,
) -> Result<OutboundResponse, ConnectorError> {
    let cfg: HttpConfig = call.config_as()?;
    let mut url = join(&cfg.base_url, &p.path)?;
    let query = string_pairs(&p.query, "query parameter")?;
    if !query.is_empty() {
        let qs: Vec<String> = query
            .iter()
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect();
        url.push(if url.contains('?') { '&' } else { '?' });
        url.push_str(&qs.join("&"));
    }
    let method = http::Method::from_bytes(method.as_bytes())
        .map_err(|_| ConnectorError::invalid_input(format!("unsupported method '{method}'")))?;
    let mut req = OutboundRequest::new(method, url);
    for (k, v) in string_pairs(&p.headers, "header")? {
        req = req.header(&k, &v);
    }
    req = authorize(req, &cfg)?;
    if let Some(body) = p.body {
        req.body = Some(RequestBody::Json(body));
    }
    Ok(call.http.send(req, Some(call.ctx.deadline)).await?)
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn render(resp: OutboundResponse) -> Outcome {
    if let Some(err) = error_for_status(&resp, "the API") {
        return Err(Box::new(switchboard_contract::Failure {
            error: err,
            variables: Map::new(),
            rate_limit: resp.rate_limit.clone(),
        }));
    }
    let content_type = resp.header("content-type").unwrap_or("").to_string();
    let body = if content_type.contains("json") {
        resp.json_value()
    } else {
        Value::String(resp.text())
    };
    Ok(
        Success::new(json!({"status": resp.status, "contentType": content_type, "body": body}))
            .rate_limit(resp.rate_limit.clone()),
    )
}

async fn health(call: Call) -> Outcome {
    let cfg: HttpConfig = call.config_as()?;
    let path = cfg.health_path.clone().unwrap_or_else(|| "/".into());
    let resp = send(
        &call,
        "GET",
        RequestParams {
            method: None,
            path,
            query: None,
            headers: None,
            body: None,
        },
    )
    .await?;
    if let Some(err) = error_for_status(&resp, "the API") {
        return fail(err);
    }
    Ok(Success::new(json!({"status": resp.status, "reachable": true})).rate_limit(resp.rate_limit))
}

async fn get(call: Call) -> Outcome {
    let p: RequestParams = call.params_as()?;
    render(send(&call, "GET", p).await?)
}

async fn request(call: Call) -> Outcome {
    let p: RequestParams = call.params_as()?;
    let method = p.method.clone().unwrap_or_else(|| "GET".into());
    render(send(&call, &method, p).await?)
}

#[cfg(test)]
mod tests {
    use super::join;

    #[test]
    fn paths_cannot_escape_the_base_url() {
        assert_eq!(
            join("https://a.example/v1/", "/x").unwrap(),
            "https://a.example/v1/x"
        );
        for bad in [
            "x",
            "//evil.example/x",
            "/a/../../b",
            "/http://evil",
            "/a\\b",
        ] {
            assert!(join("https://a.example", bad).is_err(), "{bad}");
        }
    }
}
