//! GitHub REST, as documented at <https://docs.github.com/en/rest>: `/user`,
//! `/user/repos`, issues (get, create, update, comments), pull requests, repository
//! contents, and `/search/issues`. Lists page with `per_page`/`page` and a `Link`
//! header; every answer carries `X-RateLimit-*`; errors are `{"message", "errors",
//! "documentation_url", "status"}`.

use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router};
use base64::Engine as _;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::{credential, json_response, lock, Credential, Server, SharedControl};

pub const TOKEN: &str = "ghp_simulated0123456789abcdefghijkl";
pub const LOGIN: &str = "octocat";
pub const REPO: &str = "octo-org/hello";
/// Repositories the user owns; issues and pull requests in [`REPO`].
pub const REPOS: usize = 35;
pub const ISSUES: usize = 60;
pub const PULLS: usize = 25;
const DOCS: &str = "https://docs.github.com/rest";

/// An issue as the simulator stores it.
#[derive(Clone, Debug)]
pub struct Issue {
    pub number: u64,
    pub title: String,
    pub body: String,
    pub state: String,
    pub labels: Vec<String>,
    pub comments: Vec<String>,
}

struct Data {
    issues: Vec<Issue>,
    /// A `Link` target to send instead of the real one (a foreign host).
    link_override: Option<String>,
}

#[derive(Clone)]
struct Sim {
    data: Arc<Mutex<Data>>,
    base: Arc<Mutex<String>>,
}

/// A running GitHub simulator.
pub struct GitHubSim {
    pub server: Server,
    data: Arc<Mutex<Data>>,
}

impl std::ops::Deref for GitHubSim {
    type Target = Server;
    fn deref(&self) -> &Server {
        &self.server
    }
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl GitHubSim {
    pub async fn start() -> GitHubSim {
        let control = SharedControl::default();
        let issues = (1..=ISSUES as u64)
            .map(|n| Issue {
                number: n,
                title: format!("Bug {n}: crash on start"),
                body: format!("Steps to reproduce {n}."),
                state: if n % 3 == 0 { "closed" } else { "open" }.into(),
                labels: if n % 2 == 0 {
                    vec!["bug".into()]
                } else {
                    vec![]
                },
                comments: Vec::new(),
            })
            .collect();
        let sim = Sim {
            data: Arc::new(Mutex::new(Data {
                issues,
                link_override: None,
            })),
            base: Arc::new(Mutex::new(String::new())),
        };
        let router = Router::new()
            .route("/user", get(user))
            .route("/user/repos", get(user_repos))
            .route("/search/issues", get(search_issues))
            .route(
                "/repos/{owner}/{repo}/issues",
                axum::routing::post(create_issue),
            )
            .route(
                "/repos/{owner}/{repo}/issues/{number}",
                get(get_issue).patch(update_issue),
            )
            .route(
                "/repos/{owner}/{repo}/issues/{number}/comments",
                axum::routing::post(add_comment),
            )
            .route("/repos/{owner}/{repo}/pulls", get(list_pulls))
            .route("/repos/{owner}/{repo}/contents/{*path}", get(get_contents))
            .with_state(sim.clone())
            .layer(axum::middleware::from_fn_with_state(
                control.clone(),
                crate::control_layer,
            ));
        let server = Server::spawn(router, control).await;
        *lock(&sim.base) = server.base_url.clone();
        GitHubSim {
            server,
            data: sim.data,
        }
    }

    /// Issues in [`REPO`], seeded and created.
    pub fn issue_count(&self) -> usize {
        lock(&self.data).issues.len()
    }

    /// An issue of [`REPO`] as stored.
    pub fn issue(&self, number: u64) -> Option<Issue> {
        lock(&self.data)
            .issues
            .iter()
            .find(|i| i.number == number)
            .cloned()
    }

    /// Every `Link: rel="next"` points at `url` from now on (a hostile or broken vendor).
    pub fn set_link_override(&self, url: Option<&str>) {
        lock(&self.data).link_override = url.map(str::to_string);
    }

    /// The primary rate limit exhausted: 403, remaining 0, reset in `reset_in` seconds.
    pub fn inject_primary_limit(&self, reset_in: u64) {
        let reset = (now_secs() + reset_in).to_string();
        self.inject(
            403,
            &[
                ("x-ratelimit-limit", "5000"),
                ("x-ratelimit-remaining", "0"),
                ("x-ratelimit-used", "5000"),
                ("x-ratelimit-reset", &reset),
                ("x-ratelimit-resource", "core"),
                ("content-type", "application/json"),
            ],
            r#"{"message":"API rate limit exceeded for user ID 1.","documentation_url":"https://docs.github.com/rest/overview/resources-in-the-rest-api#rate-limiting","status":"403"}"#,
        );
    }

    /// A secondary rate limit: 403 or 429 with `Retry-After`.
    pub fn inject_secondary_limit(&self, status: u16, retry_after: u64) {
        self.inject(
            status,
            &[
                ("retry-after", &retry_after.to_string()),
                ("x-ratelimit-limit", "5000"),
                ("x-ratelimit-remaining", "4990"),
                ("content-type", "application/json"),
            ],
            r#"{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again.","documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits","status":"403"}"#,
        );
    }
}

fn rate_headers(resource: &str) -> Vec<(&'static str, String)> {
    vec![
        ("x-ratelimit-limit", "5000".into()),
        ("x-ratelimit-remaining", "4999".into()),
        ("x-ratelimit-used", "1".into()),
        ("x-ratelimit-reset", (now_secs() + 3600).to_string()),
        ("x-ratelimit-resource", resource.to_string()),
    ]
}

fn ok(status: u16, body: Value) -> Response {
    json_response(status, body, &rate_headers("core"))
}

fn gh_error(status: u16, message: &str, errors: Option<Value>) -> Response {
    let mut body =
        json!({"message": message, "documentation_url": DOCS, "status": status.to_string()});
    if let Some(e) = errors {
        body["errors"] = e;
    }
    json_response(status, body, &rate_headers("core"))
}

fn not_found() -> Response {
    gh_error(404, "Not Found", None)
}

fn unauthorized(headers: &HeaderMap) -> Option<Response> {
    match credential(headers) {
        Some(Credential::Bearer(t)) if t == TOKEN => None,
        _ => Some(json_response(
            401,
            json!({"message": "Bad credentials", "documentation_url": DOCS, "status": "401"}),
            &[],
        )),
    }
}

#[derive(Deserialize)]
struct PageQuery {
    per_page: Option<usize>,
    page: Option<usize>,
    q: Option<String>,
    state: Option<String>,
}

/// One page of `all` and its `Link` header, GitHub style.
fn paged(
    sim: &Sim,
    path: &str,
    extra: &[(&str, String)],
    q: &PageQuery,
    all: Vec<Value>,
) -> (Vec<Value>, Option<String>) {
    let per_page = q.per_page.unwrap_or(30).clamp(1, 100);
    let page = q.page.unwrap_or(1).max(1);
    let items: Vec<Value> = all
        .iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .cloned()
        .collect();
    let last = all.len().div_ceil(per_page).max(1);
    let base = lock(&sim.base).clone();
    let url = |p: usize| {
        let mut s = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in extra {
            s.append_pair(k, v);
        }
        s.append_pair("per_page", &per_page.to_string());
        s.append_pair("page", &p.to_string());
        format!("{base}{path}?{}", s.finish())
    };
    let mut links = Vec::new();
    if page < last {
        let next = lock(&sim.data)
            .link_override
            .clone()
            .unwrap_or_else(|| url(page + 1));
        links.push(format!("<{next}>; rel=\"next\""));
        links.push(format!("<{}>; rel=\"last\"", url(last)));
    }
    if page > 1 {
        links.push(format!("<{}>; rel=\"first\"", url(1)));
        links.push(format!("<{}>; rel=\"prev\"", url(page - 1)));
    }
    (items, (!links.is_empty()).then(|| links.join(", ")))
}

fn with_link(status: u16, body: Value, link: Option<String>, resource: &str) -> Response {
    let mut headers = rate_headers(resource);
    if let Some(l) = link {
        headers.push(("link", l));
    }
    json_response(status, body, &headers)
}

async fn user(headers: HeaderMap) -> Response {
    if let Some(r) = unauthorized(&headers) {
        return r;
    }
    ok(
        200,
        json!({"login": LOGIN, "id": 583231, "type": "User", "name": "The Octocat",
               "email": "octocat@github.example", "html_url": "https://github.com/octocat"}),
    )
}

async fn user_repos(
    State(sim): State<Sim>,
    headers: HeaderMap,
    Query(q): Query<PageQuery>,
) -> Response {
    if let Some(r) = unauthorized(&headers) {
        return r;
    }
    let all: Vec<Value> = (1..=REPOS)
        .map(|i| {
            let name = if i == 1 {
                "hello".to_string()
            } else {
                format!("repo-{i:02}")
            };
            let owner = if i == 1 { "octo-org" } else { LOGIN };
            json!({"id": 1000 + i, "name": name, "full_name": format!("{owner}/{name}"),
                   "private": i % 5 == 0, "html_url": format!("https://github.com/{owner}/{name}"),
                   "description": format!("Repository {i}"), "default_branch": "main",
                   "updated_at": "2026-11-01T10:00:00Z", "owner": {"login": owner}})
        })
        .collect();
    let (items, link) = paged(&sim, "/user/repos", &[], &q, all);
    with_link(200, json!(items), link, "core")
}

fn render_issue(base: &str, i: &Issue) -> Value {
    json!({"id": 5000 + i.number, "number": i.number, "title": i.title, "body": i.body, "state": i.state,
           "labels": i.labels.iter().map(|l| json!({"name": l})).collect::<Vec<_>>(),
           "user": {"login": LOGIN}, "assignees": [], "comments": i.comments.len(),
           "html_url": format!("https://github.com/{REPO}/issues/{}", i.number),
           "url": format!("{base}/repos/{REPO}/issues/{}", i.number),
           "created_at": "2026-10-01T10:00:00Z", "updated_at": "2026-10-02T10:00:00Z"})
}

fn known_repo(owner: &str, repo: &str) -> bool {
    format!("{owner}/{repo}") == REPO
}

async fn get_issue(
    State(sim): State<Sim>,
    headers: HeaderMap,
    Path((owner, repo, number)): Path<(String, String, String)>,
) -> Response {
    if let Some(r) = unauthorized(&headers) {
        return r;
    }
    let base = lock(&sim.base).clone();
    let data = lock(&sim.data);
    let found = number
        .parse::<u64>()
        .ok()
        .and_then(|n| data.issues.iter().find(|i| i.number == n));
    match found {
        Some(i) if known_repo(&owner, &repo) => ok(200, render_issue(&base, i)),
        _ => not_found(),
    }
}

#[derive(Deserialize)]
struct IssueBody {
    title: Option<Value>,
    body: Option<String>,
    state: Option<String>,
    labels: Option<Vec<String>>,
    assignees: Option<Vec<String>>,
}

fn validate(b: &IssueBody, creating: bool) -> Option<Response> {
    let mut errors = Vec::new();
    match &b.title {
        None if creating => {
            errors.push(json!({"resource": "Issue", "code": "missing_field", "field": "title"}))
        }
        Some(t) if t.as_str().is_none_or(|s| s.trim().is_empty()) => {
            errors.push(json!({"resource": "Issue", "code": "missing_field", "field": "title"}))
        }
        _ => {}
    }
    if let Some(s) = &b.state {
        if s != "open" && s != "closed" {
            errors.push(
                json!({"resource": "Issue", "code": "invalid", "field": "state", "value": s}),
            );
        }
    }
    for a in b.assignees.iter().flatten() {
        if a != LOGIN {
            errors.push(
                json!({"resource": "Issue", "code": "invalid", "field": "assignees", "value": a}),
            );
        }
    }
    (!errors.is_empty()).then(|| gh_error(422, "Validation Failed", Some(json!(errors))))
}

async fn create_issue(
    State(sim): State<Sim>,
    headers: HeaderMap,
    Path((owner, repo)): Path<(String, String)>,
    body: Result<Json<IssueBody>, axum::extract::rejection::JsonRejection>,
) -> Response {
    if let Some(r) = unauthorized(&headers) {
        return r;
    }
    if !known_repo(&owner, &repo) {
        return not_found();
    }
    let Ok(Json(b)) = body else {
        return gh_error(400, "Problems parsing JSON", None);
    };
    if let Some(r) = validate(&b, true) {
        return r;
    }
    let base = lock(&sim.base).clone();
    let mut data = lock(&sim.data);
    let issue = Issue {
        number: data.issues.len() as u64 + 1,
        title: b
            .title
            .and_then(|t| t.as_str().map(str::to_string))
            .unwrap_or_default(),
        body: b.body.unwrap_or_default(),
        state: "open".into(),
        labels: b.labels.unwrap_or_default(),
        comments: Vec::new(),
    };
    let out = render_issue(&base, &issue);
    data.issues.push(issue);
    ok(201, out)
}

async fn update_issue(
    State(sim): State<Sim>,
    headers: HeaderMap,
    Path((owner, repo, number)): Path<(String, String, String)>,
    body: Result<Json<IssueBody>, axum::extract::rejection::JsonRejection>,
) -> Response {
    if let Some(r) = unauthorized(&headers) {
        return r;
    }
    let Ok(Json(b)) = body else {
        return gh_error(400, "Problems parsing JSON", None);
    };
    let base = lock(&sim.base).clone();
    let mut data = lock(&sim.data);
    let n: u64 = number.parse().unwrap_or(0);
    let Some(issue) = data
        .issues
        .iter_mut()
        .find(|i| i.number == n && known_repo(&owner, &repo))
    else {
        return not_found();
    };
    if let Some(r) = validate(&b, false) {
        return r;
    }
    if let Some(t) = b.title.and_then(|t| t.as_str().map(str::to_string)) {
        issue.title = t;
    }
    if let Some(body) = b.body {
        issue.body = body;
    }
    if let Some(s) = b.state {
        issue.state = s;
    }
    if let Some(l) = b.labels {
        issue.labels = l;
    }
    ok(200, render_issue(&base, issue))
}

async fn add_comment(
    State(sim): State<Sim>,
    headers: HeaderMap,
    Path((owner, repo, number)): Path<(String, String, String)>,
    Json(body): Json<Value>,
) -> Response {
    if let Some(r) = unauthorized(&headers) {
        return r;
    }
    let mut data = lock(&sim.data);
    let n: u64 = number.parse().unwrap_or(0);
    let Some(issue) = data
        .issues
        .iter_mut()
        .find(|i| i.number == n && known_repo(&owner, &repo))
    else {
        return not_found();
    };
    let Some(text) = body["body"].as_str().filter(|s| !s.is_empty()) else {
        return gh_error(
            422,
            "Validation Failed",
            Some(json!([{"resource": "IssueComment", "code": "missing_field", "field": "body"}])),
        );
    };
    issue.comments.push(text.to_string());
    let id = 9000 + issue.comments.len() as u64;
    ok(
        201,
        json!({"id": id, "body": text, "user": {"login": LOGIN},
               "html_url": format!("https://github.com/{REPO}/issues/{n}#issuecomment-{id}"),
               "created_at": "2026-11-21T12:00:00Z"}),
    )
}

async fn list_pulls(
    State(sim): State<Sim>,
    headers: HeaderMap,
    Path((owner, repo)): Path<(String, String)>,
    Query(q): Query<PageQuery>,
) -> Response {
    if let Some(r) = unauthorized(&headers) {
        return r;
    }
    if !known_repo(&owner, &repo) {
        return not_found();
    }
    let state = q.state.clone().unwrap_or_else(|| "open".into());
    let all: Vec<Value> = (1..=PULLS as u64)
        .map(|n| {
            let s = if n % 5 == 0 { "closed" } else { "open" };
            json!({"number": 100 + n, "title": format!("Feature {n}"), "state": s, "draft": n % 7 == 0,
                   "user": {"login": LOGIN}, "head": {"ref": format!("feature-{n}")}, "base": {"ref": "main"},
                   "html_url": format!("https://github.com/{REPO}/pull/{}", 100 + n),
                   "created_at": "2026-10-01T10:00:00Z", "updated_at": "2026-10-02T10:00:00Z"})
        })
        .filter(|p| state == "all" || p["state"] == json!(state))
        .collect();
    let path = format!("/repos/{owner}/{repo}/pulls");
    let (items, link) = paged(&sim, &path, &[("state", state)], &q, all);
    with_link(200, json!(items), link, "core")
}

#[derive(Deserialize)]
struct RefQuery {
    r#ref: Option<String>,
}

async fn get_contents(
    headers: HeaderMap,
    Path((owner, repo, path)): Path<(String, String, String)>,
    Query(q): Query<RefQuery>,
) -> Response {
    if let Some(r) = unauthorized(&headers) {
        return r;
    }
    if !known_repo(&owner, &repo) || q.r#ref.as_deref().is_some_and(|r| r != "main") {
        return not_found();
    }
    let content = match path.as_str() {
        "README.md" => "# hello\n\nA sample repository.\n",
        "src/main.rs" => "fn main() {\n    println!(\"hello\");\n}\n",
        _ => return not_found(),
    };
    let encoded = base64::engine::general_purpose::STANDARD.encode(content);
    // GitHub wraps the base64 at 60 columns.
    let wrapped: Vec<String> = encoded
        .as_bytes()
        .chunks(60)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect();
    ok(
        200,
        json!({"type": "file", "encoding": "base64", "size": content.len(), "name": path.rsplit('/').next(),
               "path": path, "sha": "3d21ec53a331a6f037a91c368710b99387d012c1",
               "content": wrapped.join("\n"), "html_url": format!("https://github.com/{REPO}/blob/main/{path}")}),
    )
}

async fn search_issues(
    State(sim): State<Sim>,
    headers: HeaderMap,
    Query(q): Query<PageQuery>,
) -> Response {
    if let Some(r) = unauthorized(&headers) {
        return r;
    }
    let query = q.q.clone().unwrap_or_default();
    if query.trim().is_empty() {
        return gh_error(
            422,
            "Validation Failed",
            Some(json!([{"resource": "Search", "field": "q", "code": "missing"}])),
        );
    }
    let mut want_state = None;
    let mut want_label = None;
    let mut words = Vec::new();
    for token in query.split_whitespace() {
        match token.split_once(':') {
            Some(("repo", r)) if r != REPO => {
                return gh_error(
                    422,
                    "Validation Failed",
                    Some(
                        json!([{"message": "The listed users and repositories cannot be searched either because the resources do not exist or you do not have permission to view them.", "resource": "Search", "field": "q", "code": "invalid"}]),
                    ),
                );
            }
            Some(("repo", _)) | Some(("is", "issue")) => {}
            Some(("state", s)) | Some(("is", s)) if s == "open" || s == "closed" => {
                want_state = Some(s.to_string())
            }
            Some(("label", l)) => want_label = Some(l.to_string()),
            Some((qual, _))
                if !qual.is_empty() && qual.chars().all(|c| c.is_ascii_alphabetic()) =>
            {
                return gh_error(
                    422,
                    "Validation Failed",
                    Some(
                        json!([{"message": format!("'{qual}' is not a recognized search qualifier"), "resource": "Search", "field": "q", "code": "invalid"}]),
                    ),
                );
            }
            _ => words.push(token.to_lowercase()),
        }
    }
    let base = lock(&sim.base).clone();
    let all: Vec<Value> = lock(&sim.data)
        .issues
        .iter()
        .filter(|i| want_state.as_ref().is_none_or(|s| &i.state == s))
        .filter(|i| want_label.as_ref().is_none_or(|l| i.labels.contains(l)))
        .filter(|i| {
            words
                .iter()
                .all(|w| i.title.to_lowercase().contains(w) || i.body.to_lowercase().contains(w))
        })
        .map(|i| render_issue(&base, i))
        .collect();
    let total = all.len();
    let (items, link) = paged(&sim, "/search/issues", &[("q", query)], &q, all);
    with_link(
        200,
        json!({"total_count": total, "incomplete_results": false, "items": items}),
        link,
        "search",
    )
}
