//! Confluence Cloud REST, as documented at
//! <https://developer.atlassian.com/cloud/confluence/rest/v2/> (pages, spaces; cursor
//! paging with `_links.next`) and v1 for what v2 lacks (`/wiki/rest/api/search` with
//! CQL, `/wiki/rest/api/user/current`). v2 errors are `{"errors": [{status, code,
//! title}]}`, v1 errors `{"statusCode", "message"}`; a stale version on update is 409.

use std::sync::{Arc, Mutex};

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use base64::Engine as _;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::{credential, json_response, lock, Credential, Server, SharedControl};

pub const EMAIL: &str = "agent@example.com";
pub const API_TOKEN: &str = "confluence-api-token-0123456789";
/// Pages seeded in space ENG; spaces in all.
pub const ENG_PAGES: usize = 30;
pub const SPACES: usize = 8;

/// A page as the simulator stores it.
#[derive(Clone, Debug)]
pub struct Page {
    pub id: String,
    pub space_id: String,
    pub title: String,
    pub body: String,
    pub version: u64,
    pub parent_id: Option<String>,
}

struct Data {
    spaces: Vec<(String, String, String)>,
    pages: Vec<Page>,
    next_id: u64,
}

#[derive(Clone)]
struct Sim {
    data: Arc<Mutex<Data>>,
}

pub struct ConfluenceSim {
    pub server: Server,
    data: Arc<Mutex<Data>>,
}

impl std::ops::Deref for ConfluenceSim {
    type Target = Server;
    fn deref(&self) -> &Server {
        &self.server
    }
}

impl ConfluenceSim {
    pub async fn start() -> ConfluenceSim {
        let keys = [
            "ENG", "OPS", "HR", "SALES", "LEGAL", "DESIGN", "DATA", "ALL",
        ];
        let spaces: Vec<(String, String, String)> = keys
            .iter()
            .enumerate()
            .map(|(i, k)| {
                (
                    format!("{}", 65000 + i),
                    k.to_string(),
                    format!("{k} space"),
                )
            })
            .collect();
        let pages = (1..=ENG_PAGES)
            .map(|i| Page {
                id: format!("{}", 100000 + i),
                space_id: "65000".into(),
                title: format!("Runbook {i:02}"),
                body: format!("<p>Steps for runbook {i}.</p>"),
                version: 1,
                parent_id: None,
            })
            .collect();
        let sim = Sim {
            data: Arc::new(Mutex::new(Data {
                spaces,
                pages,
                next_id: 200000,
            })),
        };
        let control = SharedControl::default();
        let router = Router::new()
            .route("/wiki/rest/api/user/current", get(current_user))
            .route("/wiki/rest/api/search", get(search))
            .route("/wiki/api/v2/spaces", get(list_spaces))
            .route("/wiki/api/v2/pages", axum::routing::post(create_page))
            .route("/wiki/api/v2/pages/{id}", get(get_page).put(update_page))
            .with_state(sim.clone())
            .layer(axum::middleware::from_fn_with_state(
                control.clone(),
                crate::control_layer,
            ));
        ConfluenceSim {
            server: Server::spawn(router, control).await,
            data: sim.data,
        }
    }

    pub fn page(&self, id: &str) -> Option<Page> {
        lock(&self.data).pages.iter().find(|p| p.id == id).cloned()
    }

    pub fn page_count(&self) -> usize {
        lock(&self.data).pages.len()
    }
}

fn ok(status: u16, body: Value) -> Response {
    json_response(
        status,
        body,
        &[
            ("x-ratelimit-limit", "100".into()),
            ("x-ratelimit-remaining", "99".into()),
        ],
    )
}

fn v2_error(status: u16, code: &str, title: &str) -> Response {
    json_response(
        status,
        json!({"errors": [{"status": status, "code": code, "title": title, "detail": null}]}),
        &[],
    )
}

fn unauthorized(headers: &HeaderMap) -> Option<Response> {
    match credential(headers) {
        Some(Credential::Basic(u, p)) if u == EMAIL && p == API_TOKEN => None,
        _ => Some(
            (
                axum::http::StatusCode::UNAUTHORIZED,
                "Client must be authenticated to access this resource.",
            )
                .into_response(),
        ),
    }
}

async fn current_user(headers: HeaderMap) -> Response {
    if let Some(r) = unauthorized(&headers) {
        return r;
    }
    ok(
        200,
        json!({"type": "known", "accountId": "5b10ac8d82e05b22cc7d4ef5", "displayName": "Agent Smith", "email": EMAIL}),
    )
}

#[derive(Deserialize)]
struct SearchQuery {
    cql: Option<String>,
    limit: Option<usize>,
    cursor: Option<String>,
}

/// `field op value [AND …]` with `=` and `~`; fields type, space, title, text.
fn parse_cql(cql: &str) -> Result<Vec<(String, String, String)>, String> {
    let mut out = Vec::new();
    for clause in cql.split(" AND ") {
        let clause = clause.trim();
        let (field, op, value) = if let Some((f, v)) = clause.split_once('~') {
            (f, "~", v)
        } else if let Some((f, v)) = clause.split_once('=') {
            (f, "=", v)
        } else {
            return Err(format!("Could not parse cql : {cql}"));
        };
        let field = field.trim().to_lowercase();
        let value = value.trim();
        let quoted = value.len() >= 2 && value.starts_with('"') && value.ends_with('"');
        if value.is_empty()
            || (value.starts_with('"') && !quoted)
            || !["type", "space", "title", "text"].contains(&field.as_str())
        {
            return Err(format!("Could not parse cql : {cql}"));
        }
        out.push((
            field,
            op.to_string(),
            value.trim_matches('"').to_lowercase(),
        ));
    }
    Ok(out)
}

async fn search(
    State(sim): State<Sim>,
    headers: HeaderMap,
    Query(q): Query<SearchQuery>,
) -> Response {
    if let Some(r) = unauthorized(&headers) {
        return r;
    }
    let cql = q.cql.unwrap_or_default();
    let clauses = match parse_cql(&cql) {
        Ok(c) => c,
        Err(msg) => {
            return json_response(
                400,
                json!({"statusCode": 400, "data": {"authorized": true, "valid": false, "errors": [], "successful": false},
                "message": format!("com.atlassian.confluence.api.service.exceptions.BadRequestException: {msg}")}),
                &[],
            )
        }
    };
    let data = lock(&sim.data);
    let space_key = |id: &str| {
        data.spaces
            .iter()
            .find(|s| s.0 == id)
            .map(|s| s.1.to_lowercase())
            .unwrap_or_default()
    };
    let all: Vec<&Page> = data
        .pages
        .iter()
        .filter(|p| {
            clauses.iter().all(|(f, op, v)| {
                let actual = match f.as_str() {
                    "type" => "page".to_string(),
                    "space" => space_key(&p.space_id),
                    "title" => p.title.to_lowercase(),
                    _ => format!("{} {}", p.title, p.body).to_lowercase(),
                };
                if op == "=" {
                    &actual == v
                } else {
                    actual.contains(v.as_str())
                }
            })
        })
        .collect();
    let start: usize = q
        .cursor
        .and_then(|c| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(c)
                .ok()
        })
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let limit = q.limit.unwrap_or(25).clamp(1, 100);
    let results: Vec<Value> = all
        .iter()
        .skip(start)
        .take(limit)
        .map(|p| json!({"content": {"id": p.id, "type": "page", "status": "current", "title": p.title},
                         "title": p.title, "excerpt": p.body.replace("<p>", "").replace("</p>", ""),
                         "url": format!("/spaces/{}/pages/{}", space_key(&p.space_id).to_uppercase(), p.id),
                         "lastModified": "2026-11-01T10:00:00.000Z"}))
        .collect();
    let end = start + results.len();
    let mut links = json!({"base": "https://acme.atlassian.net/wiki", "context": "/wiki"});
    if end < all.len() {
        let cursor = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(end.to_string());
        let qs = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("next", "true")
            .append_pair("cursor", &cursor)
            .append_pair("limit", &limit.to_string())
            .append_pair("cql", &cql)
            .finish();
        links["next"] = json!(format!("/rest/api/search?{qs}"));
    }
    ok(
        200,
        json!({"results": results, "start": start, "limit": limit, "size": results.len(), "totalSize": all.len(), "_links": links}),
    )
}

#[derive(Deserialize)]
struct PageQuery {
    limit: Option<usize>,
    cursor: Option<String>,
}

async fn list_spaces(
    State(sim): State<Sim>,
    headers: HeaderMap,
    Query(q): Query<PageQuery>,
) -> Response {
    if let Some(r) = unauthorized(&headers) {
        return r;
    }
    let data = lock(&sim.data);
    let start: usize = q
        .cursor
        .and_then(|c| c.strip_prefix("sp-").and_then(|n| n.parse().ok()))
        .unwrap_or(0);
    let limit = q.limit.unwrap_or(25).clamp(1, 250);
    let results: Vec<Value> = data
        .spaces
        .iter()
        .skip(start)
        .take(limit)
        .map(|(id, key, name)| json!({"id": id, "key": key, "name": name, "type": "global", "status": "current"}))
        .collect();
    let end = start + results.len();
    let mut links = json!({"base": "https://acme.atlassian.net/wiki"});
    if end < data.spaces.len() {
        links["next"] = json!(format!("/wiki/api/v2/spaces?cursor=sp-{end}&limit={limit}"));
    }
    ok(200, json!({"results": results, "_links": links}))
}

fn render(p: &Page) -> Value {
    json!({"id": p.id, "status": "current", "title": p.title, "spaceId": p.space_id, "parentId": p.parent_id,
           "version": {"number": p.version, "createdAt": "2026-11-01T10:00:00.000Z"},
           "body": {"storage": {"representation": "storage", "value": p.body}},
           "_links": {"webui": format!("/spaces/x/pages/{}", p.id), "base": "https://acme.atlassian.net/wiki"}})
}

async fn get_page(State(sim): State<Sim>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    if let Some(r) = unauthorized(&headers) {
        return r;
    }
    match lock(&sim.data).pages.iter().find(|p| p.id == id) {
        Some(p) => ok(200, render(p)),
        None => v2_error(404, "NOT_FOUND", "Not Found"),
    }
}

async fn create_page(
    State(sim): State<Sim>,
    headers: HeaderMap,
    body: Result<Json<Value>, axum::extract::rejection::JsonRejection>,
) -> Response {
    if let Some(r) = unauthorized(&headers) {
        return r;
    }
    let Ok(Json(b)) = body else {
        return v2_error(
            400,
            "INVALID_REQUEST_PARAMETER",
            "Request body is not valid JSON",
        );
    };
    let mut data = lock(&sim.data);
    let space = b["spaceId"].as_str().unwrap_or_default().to_string();
    if !data.spaces.iter().any(|s| s.0 == space) {
        return v2_error(400, "INVALID_REQUEST_PARAMETER", &format!("Space with id '{space}' does not exist or you do not have permission to create pages in it"));
    }
    let title = b["title"].as_str().unwrap_or_default().trim().to_string();
    if title.is_empty() {
        return v2_error(400, "INVALID_REQUEST_PARAMETER", "Title cannot be empty");
    }
    if data
        .pages
        .iter()
        .any(|p| p.space_id == space && p.title == title)
    {
        return v2_error(400, "INVALID_REQUEST_PARAMETER", "A page with this title already exists: A page already exists with the same TITLE in this space");
    }
    if b["body"]["representation"] != json!("storage") {
        return v2_error(
            400,
            "INVALID_REQUEST_PARAMETER",
            "body.representation must be one of [storage, atlas_doc_format, wiki]",
        );
    }
    let page = Page {
        id: data.next_id.to_string(),
        space_id: space,
        title,
        body: b["body"]["value"].as_str().unwrap_or_default().to_string(),
        version: 1,
        parent_id: b["parentId"].as_str().map(str::to_string),
    };
    data.next_id += 1;
    let out = render(&page);
    data.pages.push(page);
    ok(200, out)
}

async fn update_page(
    State(sim): State<Sim>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Result<Json<Value>, axum::extract::rejection::JsonRejection>,
) -> Response {
    if let Some(r) = unauthorized(&headers) {
        return r;
    }
    let Ok(Json(b)) = body else {
        return v2_error(
            400,
            "INVALID_REQUEST_PARAMETER",
            "Request body is not valid JSON",
        );
    };
    let mut data = lock(&sim.data);
    let Some(page) = data.pages.iter_mut().find(|p| p.id == id) else {
        return v2_error(404, "NOT_FOUND", "Not Found");
    };
    let Some(version) = b["version"]["number"].as_u64() else {
        return v2_error(
            400,
            "INVALID_REQUEST_PARAMETER",
            "version.number is required",
        );
    };
    if version != page.version + 1 {
        return v2_error(409, "CONFLICT", &format!("Version must be incremented when updating a page. Current Version: [{}]. Provided version: [{version}]", page.version));
    }
    if let Some(t) = b["title"].as_str() {
        page.title = t.to_string();
    }
    if let Some(v) = b["body"]["value"].as_str() {
        page.body = v.to_string();
    }
    page.version = version;
    let out = render(page);
    ok(200, out)
}
