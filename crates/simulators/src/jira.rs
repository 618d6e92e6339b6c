//! Jira Cloud REST v3, as documented at
//! <https://developer.atlassian.com/cloud/jira/platform/rest/v3/>: `myself`, project
//! search (offset paging), issues (get, create, edit), comments, transitions, and the
//! enhanced JQL search `POST /rest/api/3/search/jql` paged with `nextPageToken`.
//! Errors use Jira's `{"errorMessages": [...], "errors": {field: message}}` body; a bad
//! credential gets Atlassian's plain-text 401.

use std::sync::{Arc, Mutex};

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine as _;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::{credential, json_response, lock, Credential, Server, SharedControl};

pub const EMAIL: &str = "agent@example.com";
pub const API_TOKEN: &str = "jira-api-token-0123456789";
pub const ACCESS_TOKEN: &str = "jira-oauth-access-token";
/// Issues seeded in project ENG (OPS has 5 more).
pub const ENG_ISSUES: usize = 120;
const ISSUE_TYPES: [&str; 4] = ["Task", "Bug", "Story", "Epic"];
const SETTABLE: [&str; 9] = [
    "project",
    "issuetype",
    "summary",
    "description",
    "labels",
    "priority",
    "assignee",
    "duedate",
    "customfield_10010",
];

#[derive(Clone)]
struct Issue {
    id: u64,
    key: String,
    project: String,
    fields: Map<String, Value>,
    status: usize,
    comments: Vec<Value>,
}

const STATUSES: [(&str, &str, &str); 3] = [
    ("11", "To Do", "new"),
    ("21", "In Progress", "indeterminate"),
    ("31", "Done", "done"),
];

struct Project {
    id: u64,
    key: String,
    name: String,
}

#[derive(Default)]
struct Data {
    projects: Vec<Project>,
    issues: Vec<Issue>,
    next_id: u64,
}

#[derive(Clone)]
struct Sim {
    data: Arc<Mutex<Data>>,
    base: Arc<Mutex<String>>,
}

/// A running Jira simulator.
pub struct JiraSim {
    pub server: Server,
    data: Arc<Mutex<Data>>,
}

impl std::ops::Deref for JiraSim {
    type Target = Server;
    fn deref(&self) -> &Server {
        &self.server
    }
}

fn text_adf(text: &str) -> Value {
    json!({"type": "doc", "version": 1, "content": [
        {"type": "paragraph", "content": [{"type": "text", "text": text}]}
    ]})
}

fn seed() -> Data {
    let mut data = Data::default();
    let names = [
        ("ENG", "Engineering"),
        ("OPS", "Operations"),
        ("MKT", "Marketing"),
        ("SUP", "Support"),
        ("FIN", "Finance"),
        ("HR", "People"),
        ("SEC", "Security"),
        ("DATA", "Data Platform"),
        ("WEB", "Website"),
        ("MOB", "Mobile"),
        ("QA", "Quality"),
        ("DOC", "Documentation"),
    ];
    for (i, (key, name)) in names.iter().enumerate() {
        data.projects.push(Project {
            id: 10000 + i as u64,
            key: key.to_string(),
            name: name.to_string(),
        });
    }
    data.next_id = 10001;
    for (project, n) in [("ENG", ENG_ISSUES), ("OPS", 5)] {
        for i in 1..=n {
            let mut fields = Map::new();
            fields.insert(
                "summary".into(),
                json!(format!("{project} issue {i}: fix the thing")),
            );
            fields.insert(
                "description".into(),
                text_adf(&format!("Details of {project}-{i}.")),
            );
            fields.insert("issuetype".into(), json!({"name": ISSUE_TYPES[i % 3]}));
            fields.insert(
                "priority".into(),
                json!({"name": (["High", "Medium", "Low"])[i % 3]}),
            );
            fields.insert(
                "labels".into(),
                json!(if i % 2 == 0 { vec!["backend"] } else { vec![] }),
            );
            fields.insert(
                "assignee".into(),
                if i % 4 == 0 {
                    Value::Null
                } else {
                    json!({"accountId": "5b10ac8d82e05b22cc7d4ef5", "displayName": "Ada Lovelace"})
                },
            );
            fields.insert(
                "reporter".into(),
                json!({"accountId": "5b10a2844c20165700ede21g", "displayName": "Grace Hopper"}),
            );
            let ts = format!("2026-01-{:02}T10:{:02}:00.000+0000", 1 + i % 28, i % 60);
            fields.insert("created".into(), json!(ts));
            fields.insert("updated".into(), json!(ts));
            let id = data.next_id;
            data.next_id += 1;
            data.issues.push(Issue {
                id,
                key: format!("{project}-{i}"),
                project: project.to_string(),
                fields,
                status: i % 3,
                comments: Vec::new(),
            });
        }
    }
    data
}

impl JiraSim {
    pub async fn start() -> JiraSim {
        let control = SharedControl::default();
        let sim = Sim {
            data: Arc::new(Mutex::new(seed())),
            base: Arc::new(Mutex::new(String::new())),
        };
        let router = Router::new()
            .route("/rest/api/3/myself", get(myself))
            .route("/rest/api/3/project/search", get(project_search))
            .route("/rest/api/3/search/jql", post(search_jql))
            .route("/rest/api/3/issue", post(create_issue))
            .route("/rest/api/3/issue/{key}", get(get_issue).put(edit_issue))
            .route("/rest/api/3/issue/{key}/comment", post(add_comment))
            .route(
                "/rest/api/3/issue/{key}/transitions",
                get(transitions).post(do_transition),
            )
            .with_state(sim.clone())
            .layer(axum::middleware::from_fn_with_state(
                control.clone(),
                crate::control_layer,
            ));
        let server = Server::spawn(router, control).await;
        *lock(&sim.base) = server.base_url.clone();
        JiraSim {
            server,
            data: sim.data,
        }
    }

    /// Issues in a project, seeded and created.
    pub fn issue_count(&self, project: &str) -> usize {
        lock(&self.data)
            .issues
            .iter()
            .filter(|i| i.project == project)
            .count()
    }

    /// An issue's fields as stored (description as ADF), its status name and comments.
    pub fn issue(&self, key: &str) -> Option<(Map<String, Value>, String, Vec<Value>)> {
        lock(&self.data)
            .issues
            .iter()
            .find(|i| i.key == key)
            .map(|i| {
                (
                    i.fields.clone(),
                    STATUSES[i.status].1.to_string(),
                    i.comments.clone(),
                )
            })
    }

    /// The 429 Jira sends when a rate limit is hit.
    pub fn inject_rate_limit(&self, retry_after_secs: u64) {
        self.inject(
            429,
            &[
                ("Retry-After", &retry_after_secs.to_string()),
                ("X-RateLimit-Limit", "100"),
                ("X-RateLimit-Remaining", "0"),
                ("RateLimit-Reason", "jira-quota-tenant-based"),
                ("Content-Type", "application/json"),
            ],
            r#"{"errorMessages":["Rate limit exceeded."],"errors":{}}"#,
        );
    }
}

fn rate_headers() -> Vec<(&'static str, String)> {
    vec![
        ("X-RateLimit-Limit", "100".into()),
        ("X-RateLimit-Remaining", "99".into()),
    ]
}

fn ok(status: u16, body: Value) -> Response {
    json_response(status, body, &rate_headers())
}

fn no_content() -> Response {
    let mut r = axum::http::StatusCode::NO_CONTENT.into_response();
    for (k, v) in rate_headers() {
        if let Ok(v) = axum::http::HeaderValue::from_str(&v) {
            r.headers_mut().insert(k, v);
        }
    }
    r
}

fn jira_error(status: u16, messages: &[String], errors: Map<String, Value>) -> Response {
    json_response(
        status,
        json!({"errorMessages": messages, "errors": errors}),
        &[],
    )
}

fn not_found_issue() -> Response {
    jira_error(
        404,
        &["Issue does not exist or you do not have permission to see it.".into()],
        Map::new(),
    )
}

/// Atlassian's answer to a missing or wrong credential.
fn unauthorized(headers: &HeaderMap) -> Option<Response> {
    let good = match credential(headers) {
        Some(Credential::Basic(u, p)) => u == EMAIL && p == API_TOKEN,
        Some(Credential::Bearer(t)) => t == ACCESS_TOKEN,
        None => false,
    };
    if good {
        None
    } else {
        let mut r = (
            axum::http::StatusCode::UNAUTHORIZED,
            "Client must be authenticated to access this resource.",
        )
            .into_response();
        r.headers_mut().insert(
            "www-authenticate",
            axum::http::HeaderValue::from_static("OAuth realm=\"https://example.atlassian.net\""),
        );
        Some(r)
    }
}

async fn myself(headers: HeaderMap) -> Response {
    if let Some(r) = unauthorized(&headers) {
        return r;
    }
    ok(
        200,
        json!({"accountId": "5b10ac8d82e05b22cc7d4ef5", "accountType": "atlassian",
               "emailAddress": EMAIL, "displayName": "Agent Smith", "active": true,
               "timeZone": "Europe/Berlin", "locale": "en_US"}),
    )
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ProjectQuery {
    start_at: Option<usize>,
    max_results: Option<usize>,
    query: Option<String>,
}

async fn project_search(
    State(sim): State<Sim>,
    headers: HeaderMap,
    Query(q): Query<ProjectQuery>,
) -> Response {
    if let Some(r) = unauthorized(&headers) {
        return r;
    }
    let data = lock(&sim.data);
    let needle = q.query.unwrap_or_default().to_lowercase();
    let matching: Vec<&Project> = data
        .projects
        .iter()
        .filter(|p| {
            needle.is_empty()
                || p.key.to_lowercase().contains(&needle)
                || p.name.to_lowercase().contains(&needle)
        })
        .collect();
    let start = q.start_at.unwrap_or(0);
    let max = q.max_results.unwrap_or(50).clamp(1, 100);
    let values: Vec<Value> = matching
        .iter()
        .skip(start)
        .take(max)
        .map(|p| {
            json!({"id": p.id.to_string(), "key": p.key, "name": p.name,
                         "projectTypeKey": "software", "style": "next-gen", "simplified": true})
        })
        .collect();
    let is_last = start + values.len() >= matching.len();
    ok(
        200,
        json!({"startAt": start, "maxResults": max, "total": matching.len(),
               "isLast": is_last, "values": values}),
    )
}

fn render_issue(base: &str, issue: &Issue, wanted: &[String]) -> Value {
    let mut all = issue.fields.clone();
    let (sid, sname, scat) = STATUSES[issue.status];
    all.insert(
        "status".into(),
        json!({"id": sid, "name": sname, "statusCategory": {"key": scat}}),
    );
    all.insert("project".into(), json!({"key": issue.project}));
    all.insert(
        "comment".into(),
        json!({"comments": issue.comments, "total": issue.comments.len()}),
    );
    let everything = wanted.iter().any(|w| w == "*all" || w == "*navigable");
    let fields: Map<String, Value> = all
        .into_iter()
        .filter(|(k, _)| everything || wanted.iter().any(|w| w == k))
        .collect();
    let mut out = json!({"id": issue.id.to_string(), "key": issue.key,
                         "self": format!("{base}/rest/api/3/issue/{}", issue.id)});
    if !fields.is_empty() || !wanted.is_empty() {
        out["fields"] = Value::Object(fields);
    }
    out
}

#[derive(Deserialize)]
struct FieldsQuery {
    fields: Option<String>,
}

fn find<'a>(data: &'a mut Data, key: &str) -> Option<&'a mut Issue> {
    data.issues
        .iter_mut()
        .find(|i| i.key.eq_ignore_ascii_case(key) || i.id.to_string() == key)
}

async fn get_issue(
    State(sim): State<Sim>,
    headers: HeaderMap,
    Path(key): Path<String>,
    Query(q): Query<FieldsQuery>,
) -> Response {
    if let Some(r) = unauthorized(&headers) {
        return r;
    }
    let base = lock(&sim.base).clone();
    let mut data = lock(&sim.data);
    let wanted: Vec<String> = q
        .fields
        .map(|f| f.split(',').map(|s| s.trim().to_string()).collect())
        .unwrap_or_else(|| vec!["*all".into()]);
    match find(&mut data, &key) {
        Some(issue) => ok(200, render_issue(&base, issue, &wanted)),
        None => not_found_issue(),
    }
}

/// A parsed JQL query: the subset the simulator understands.
#[derive(Default)]
struct Jql {
    clauses: Vec<(String, String, String)>,
    order_desc: Option<bool>,
}

fn jql_error(msg: String) -> String {
    format!("Error in the JQL Query: {msg}")
}

/// Parses `field op value [AND field op value]* [ORDER BY field [ASC|DESC]]`, with
/// `=`, `!=` and `~`, quoted or bare values. Anything else is a syntax error worded
/// as Jira words it.
fn parse_jql(jql: &str) -> Result<Jql, String> {
    let mut tokens: Vec<(usize, String)> = Vec::new();
    let chars: Vec<char> = jql.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '"' || c == '\'' {
            let start = i;
            i += 1;
            let mut s = String::new();
            while i < chars.len() && chars[i] != c {
                s.push(chars[i]);
                i += 1;
            }
            if i >= chars.len() {
                return Err(jql_error(format!(
                    "The quoted string starting at character {} has not been completed. (line 1, character {})",
                    start + 1,
                    start + 1
                )));
            }
            i += 1;
            tokens.push((start, format!("\"{s}")));
        } else if c == '!' && chars.get(i + 1) == Some(&'=') {
            tokens.push((i, "!=".into()));
            i += 2;
        } else if c == '=' || c == '~' {
            tokens.push((i, c.to_string()));
            i += 1;
        } else {
            let start = i;
            let mut s = String::new();
            while i < chars.len()
                && !chars[i].is_whitespace()
                && !matches!(chars[i], '=' | '~' | '!' | '"' | '\'')
            {
                s.push(chars[i]);
                i += 1;
            }
            tokens.push((start, s));
        }
    }
    let mut q = Jql::default();
    let mut t = tokens.into_iter().peekable();
    let unexpected = |pos: usize, got: &str, want: &str| {
        jql_error(format!(
            "Expecting {want} but got '{}'. (line 1, character {})",
            got.trim_start_matches('"'),
            pos + 1
        ))
    };
    while let Some((pos, field)) = t.next() {
        if field.eq_ignore_ascii_case("ORDER") {
            match t.next() {
                Some((_, by)) if by.eq_ignore_ascii_case("BY") => {}
                Some((p, other)) => return Err(unexpected(p, &other, "'BY'")),
                None => return Err(jql_error("Expecting 'BY' after 'ORDER'.".into())),
            }
            let Some((_, _field)) = t.next() else {
                return Err(jql_error("Expecting a field name after 'ORDER BY'.".into()));
            };
            q.order_desc = Some(match t.next() {
                Some((_, d)) if d.eq_ignore_ascii_case("DESC") => true,
                Some((_, a)) if a.eq_ignore_ascii_case("ASC") => false,
                None => false,
                Some((p, other)) => return Err(unexpected(p, &other, "'ASC' or 'DESC'")),
            });
            if let Some((p, other)) = t.next() {
                return Err(unexpected(p, &other, "the end of the query"));
            }
            break;
        }
        if field.starts_with('"') || matches!(field.as_str(), "=" | "!=" | "~") {
            return Err(unexpected(pos, &field, "a field name"));
        }
        let op = match t.next() {
            Some((_, op)) if matches!(op.as_str(), "=" | "!=" | "~") => op,
            Some((p, other)) => {
                return Err(unexpected(p, &other, "one of the operators '=', '!=', '~'"))
            }
            None => {
                return Err(jql_error(format!(
                    "Expecting an operator after '{field}'. (line 1, character {})",
                    jql.len() + 1
                )))
            }
        };
        let value = match t.next() {
            Some((_, v)) if !matches!(v.as_str(), "=" | "!=" | "~") => {
                v.trim_start_matches('"').to_string()
            }
            Some((p, other)) => return Err(unexpected(p, &other, "a value")),
            None => {
                return Err(jql_error(format!(
                    "Expecting either a value, list or function but got end of query. (line 1, character {})",
                    jql.len() + 1
                )))
            }
        };
        q.clauses.push((field.to_lowercase(), op, value));
        match t.peek() {
            Some((_, and)) if and.eq_ignore_ascii_case("AND") => {
                t.next();
                if t.peek().is_none() {
                    return Err(jql_error(format!(
                        "Expecting a field name but got end of query. (line 1, character {})",
                        jql.len() + 1
                    )));
                }
            }
            Some((_, order)) if order.eq_ignore_ascii_case("ORDER") => {}
            Some((p, other)) => return Err(unexpected(*p, other, "'AND' or 'ORDER BY'")),
            None => break,
        }
    }
    Ok(q)
}

fn field_text(issue: &Issue, field: &str) -> String {
    match field {
        "project" => issue.project.clone(),
        "status" => STATUSES[issue.status].1.to_string(),
        "key" | "issuekey" => issue.key.clone(),
        "issuetype" | "type" => issue.fields["issuetype"]["name"]
            .as_str()
            .unwrap_or("")
            .into(),
        "labels" => issue.fields["labels"].to_string(),
        "summary" | "text" => issue.fields["summary"].as_str().unwrap_or("").into(),
        other => issue
            .fields
            .get(other)
            .map(Value::to_string)
            .unwrap_or_default(),
    }
}

const SEARCHABLE: [&str; 9] = [
    "project",
    "status",
    "key",
    "issuekey",
    "issuetype",
    "type",
    "labels",
    "summary",
    "text",
];

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SearchBody {
    jql: Option<String>,
    next_page_token: Option<String>,
    max_results: Option<usize>,
    fields: Option<Vec<String>>,
}

async fn search_jql(
    State(sim): State<Sim>,
    headers: HeaderMap,
    body: Result<Json<SearchBody>, axum::extract::rejection::JsonRejection>,
) -> Response {
    if let Some(r) = unauthorized(&headers) {
        return r;
    }
    let Ok(Json(body)) = body else {
        return jira_error(
            400,
            &[
                "Invalid request payload. Refer to the REST API documentation and try again."
                    .into(),
            ],
            Map::new(),
        );
    };
    let jql = body.jql.unwrap_or_default();
    let parsed = match parse_jql(&jql) {
        Ok(p) => p,
        Err(msg) => return jira_error(400, &[msg], Map::new()),
    };
    if parsed.clauses.is_empty() {
        return jira_error(
            400,
            &["Unbounded JQL queries are not allowed here. Please add a search restriction to your query.".into()],
            Map::new(),
        );
    }
    let base = lock(&sim.base).clone();
    let data = lock(&sim.data);
    for (field, op, value) in &parsed.clauses {
        if !SEARCHABLE.contains(&field.as_str()) {
            return jira_error(
                400,
                &[format!(
                    "Field '{field}' does not exist or you do not have permission to view it."
                )],
                Map::new(),
            );
        }
        if field == "project"
            && op != "~"
            && !data
                .projects
                .iter()
                .any(|p| p.key.eq_ignore_ascii_case(value))
        {
            return jira_error(
                400,
                &[format!(
                    "The value '{value}' does not exist for the field 'project'."
                )],
                Map::new(),
            );
        }
    }
    let mut matching: Vec<&Issue> = data
        .issues
        .iter()
        .filter(|issue| {
            parsed.clauses.iter().all(|(field, op, value)| {
                let actual = field_text(issue, field).to_lowercase();
                let value = value.to_lowercase();
                match op.as_str() {
                    "=" => actual == value,
                    "!=" => actual != value,
                    _ => actual.contains(&value),
                }
            })
        })
        .collect();
    if parsed.order_desc == Some(true) {
        matching.reverse();
    }
    let offset = match body.next_page_token.as_deref() {
        None => 0,
        Some(token) => match decode_token(token) {
            Some(o) => o,
            None => {
                return jira_error(
                    400,
                    &["The provided next page token is invalid or expired.".into()],
                    Map::new(),
                )
            }
        },
    };
    let max = body.max_results.unwrap_or(50).clamp(1, 100);
    let wanted = body.fields.unwrap_or_else(|| vec!["id".into()]);
    let issues: Vec<Value> = matching
        .iter()
        .skip(offset)
        .take(max)
        .map(|i| render_issue(&base, i, &wanted))
        .collect();
    let end = offset + issues.len();
    let mut out = json!({"issues": issues, "isLast": end >= matching.len()});
    if end < matching.len() {
        out["nextPageToken"] = json!(encode_token(end));
    }
    ok(200, out)
}

fn encode_token(offset: usize) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("jira-page:{offset}"))
}

fn decode_token(token: &str) -> Option<usize> {
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .ok()?;
    String::from_utf8(raw)
        .ok()?
        .strip_prefix("jira-page:")?
        .parse()
        .ok()
}

fn is_adf(v: &Value) -> bool {
    v.get("type").and_then(Value::as_str) == Some("doc")
        && v.get("version").is_some()
        && v.get("content").is_some_and(Value::is_array)
}

/// Field checks Jira applies to create and edit.
fn check_fields(data: &Data, fields: &Map<String, Value>, creating: bool) -> Map<String, Value> {
    let mut errors = Map::new();
    for (k, v) in fields {
        if !SETTABLE.contains(&k.as_str()) {
            errors.insert(
                k.clone(),
                json!(format!(
                    "Field '{k}' cannot be set. It is not on the appropriate screen, or unknown."
                )),
            );
        } else if k == "description" && !is_adf(v) {
            errors.insert(
                k.clone(),
                json!("Operation value must be an Atlassian Document (see the Atlassian Document Format)"),
            );
        } else if k == "summary" && v.as_str().is_none_or(|s| s.trim().is_empty()) {
            errors.insert(k.clone(), json!("You must specify a summary of the issue."));
        } else if k == "labels" && !v.is_array() {
            errors.insert(k.clone(), json!("labels must be an array of strings"));
        }
    }
    if creating {
        let project_ok = fields.get("project").is_some_and(|p| {
            let key = p.get("key").and_then(Value::as_str);
            let id = p.get("id").and_then(Value::as_str);
            data.projects.iter().any(|pr| {
                key.is_some_and(|k| pr.key == k) || id.is_some_and(|i| pr.id.to_string() == i)
            })
        });
        if !project_ok {
            errors.insert("project".into(), json!("valid project is required"));
        }
        let type_ok = fields
            .get("issuetype")
            .and_then(|t| t.get("name"))
            .and_then(Value::as_str)
            .is_some_and(|n| ISSUE_TYPES.contains(&n));
        if !type_ok {
            errors.insert("issuetype".into(), json!("Specify a valid issue type"));
        }
        if !fields.contains_key("summary") {
            errors.insert(
                "summary".into(),
                json!("You must specify a summary of the issue."),
            );
        }
    }
    errors
}

#[derive(Deserialize)]
struct FieldsBody {
    fields: Option<Map<String, Value>>,
}

async fn create_issue(
    State(sim): State<Sim>,
    headers: HeaderMap,
    body: Result<Json<FieldsBody>, axum::extract::rejection::JsonRejection>,
) -> Response {
    if let Some(r) = unauthorized(&headers) {
        return r;
    }
    let Ok(Json(FieldsBody {
        fields: Some(fields),
    })) = body
    else {
        return jira_error(
            400,
            &[
                "Invalid request payload. Refer to the REST API documentation and try again."
                    .into(),
            ],
            Map::new(),
        );
    };
    let base = lock(&sim.base).clone();
    let mut data = lock(&sim.data);
    let errors = check_fields(&data, &fields, true);
    if !errors.is_empty() {
        return jira_error(400, &[], errors);
    }
    let project = fields["project"]["key"]
        .as_str()
        .map(str::to_string)
        .or_else(|| {
            let id = fields["project"]["id"].as_str()?;
            data.projects
                .iter()
                .find(|p| p.id.to_string() == id)
                .map(|p| p.key.clone())
        })
        .unwrap_or_default();
    let n = data.issues.iter().filter(|i| i.project == project).count() + 1;
    let id = data.next_id;
    data.next_id += 1;
    let mut stored = fields.clone();
    stored.remove("project");
    stored
        .entry("created")
        .or_insert(json!("2026-11-21T12:00:00.000+0000"));
    stored
        .entry("updated")
        .or_insert(json!("2026-11-21T12:00:00.000+0000"));
    stored.entry("labels").or_insert(json!([]));
    let key = format!("{project}-{n}");
    data.issues.push(Issue {
        id,
        key: key.clone(),
        project,
        fields: stored,
        status: 0,
        comments: Vec::new(),
    });
    ok(
        201,
        json!({"id": id.to_string(), "key": key, "self": format!("{base}/rest/api/3/issue/{id}")}),
    )
}

async fn edit_issue(
    State(sim): State<Sim>,
    headers: HeaderMap,
    Path(key): Path<String>,
    body: Result<Json<FieldsBody>, axum::extract::rejection::JsonRejection>,
) -> Response {
    if let Some(r) = unauthorized(&headers) {
        return r;
    }
    let Ok(Json(FieldsBody {
        fields: Some(fields),
    })) = body
    else {
        return jira_error(
            400,
            &[
                "Invalid request payload. Refer to the REST API documentation and try again."
                    .into(),
            ],
            Map::new(),
        );
    };
    let mut data = lock(&sim.data);
    let mut errors = check_fields(&data, &fields, false);
    for k in ["project", "issuetype"] {
        if fields.contains_key(k) {
            errors.insert(
                k.into(),
                json!(format!(
                    "Field '{k}' cannot be set. It is not on the appropriate screen, or unknown."
                )),
            );
        }
    }
    let Some(issue) = find(&mut data, &key) else {
        return not_found_issue();
    };
    if !errors.is_empty() {
        return jira_error(400, &[], errors);
    }
    for (k, v) in fields {
        issue.fields.insert(k, v);
    }
    no_content()
}

#[derive(Deserialize)]
struct CommentBody {
    body: Option<Value>,
}

async fn add_comment(
    State(sim): State<Sim>,
    headers: HeaderMap,
    Path(key): Path<String>,
    body: Result<Json<CommentBody>, axum::extract::rejection::JsonRejection>,
) -> Response {
    if let Some(r) = unauthorized(&headers) {
        return r;
    }
    let base = lock(&sim.base).clone();
    let mut data = lock(&sim.data);
    let next = data.next_id;
    let Some(issue) = find(&mut data, &key) else {
        return not_found_issue();
    };
    let adf = match body {
        Ok(Json(CommentBody { body: Some(b) })) if is_adf(&b) => b,
        _ => {
            let mut errors = Map::new();
            errors.insert("comment".into(), json!("Comment body can not be empty!"));
            return jira_error(400, &[], errors);
        }
    };
    let id = format!("{}", 20000 + next + issue.comments.len() as u64);
    let comment = json!({"id": id, "self": format!("{base}/rest/api/3/issue/{}/comment/{id}", issue.id),
        "author": {"accountId": "5b10ac8d82e05b22cc7d4ef5", "displayName": "Agent Smith"},
        "body": adf, "created": "2026-11-21T12:00:00.000+0000", "updated": "2026-11-21T12:00:00.000+0000"});
    issue.comments.push(comment.clone());
    ok(201, comment)
}

fn transition_list() -> Vec<Value> {
    STATUSES
        .iter()
        .map(|(id, name, cat)| {
            json!({"id": id, "name": name, "hasScreen": false,
            "to": {"id": id, "name": name, "statusCategory": {"key": cat}}})
        })
        .collect()
}

async fn transitions(
    State(sim): State<Sim>,
    headers: HeaderMap,
    Path(key): Path<String>,
) -> Response {
    if let Some(r) = unauthorized(&headers) {
        return r;
    }
    let mut data = lock(&sim.data);
    if find(&mut data, &key).is_none() {
        return not_found_issue();
    }
    ok(
        200,
        json!({"expand": "transitions", "transitions": transition_list()}),
    )
}

async fn do_transition(
    State(sim): State<Sim>,
    headers: HeaderMap,
    Path(key): Path<String>,
    Json(body): Json<Value>,
) -> Response {
    if let Some(r) = unauthorized(&headers) {
        return r;
    }
    let mut data = lock(&sim.data);
    let Some(issue) = find(&mut data, &key) else {
        return not_found_issue();
    };
    let id = body["transition"]["id"].as_str().unwrap_or("");
    match STATUSES.iter().position(|(sid, _, _)| *sid == id) {
        Some(pos) => {
            issue.status = pos;
            no_content()
        }
        None => jira_error(
            400,
            &[format!("Transition id '{id}' is not valid for this issue.")],
            Map::new(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::parse_jql;

    #[test]
    fn jql_subset() {
        let q = parse_jql("project = ENG AND status != \"Done\" ORDER BY created DESC").unwrap();
        assert_eq!(q.clauses.len(), 2);
        assert_eq!(q.order_desc, Some(true));
        for bad in [
            "project = ",
            "project ENG",
            "project = ENG AND",
            "= ENG",
            "summary ~ \"open",
        ] {
            let err = parse_jql(bad).err().unwrap_or_default();
            assert!(err.starts_with("Error in the JQL Query"), "{bad}: {err}");
        }
    }
}
