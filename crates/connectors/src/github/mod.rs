//! `github`: GitHub REST (github.com or GitHub Enterprise). Repositories, issues
//! (search, read, create, update, comment), pull requests and file contents. Lists
//! follow GitHub's `Link` header behind the hub's signed cursor, only ever on the
//! configured API origin; `X-RateLimit-*` fills `meta.rateLimit`; primary and
//! secondary rate limits become `rate_limited` with `retryAfterMs`.

pub mod client;

use base64::Engine as _;
use http::Method;
use serde_json::{json, Map, Value};
use switchboard_contract::{
    fail, Access, CommandSpec, ConnectorError, FieldKind, FieldSpec, Outcome, Success,
};
use switchboard_runtime::{Call, Definition};

use client::Client;

fn sample_issue() -> Value {
    json!({"number": 42, "title": "Crash on start", "state": "open", "labels": ["bug"], "author": "octocat",
           "assignees": [], "comments": 0, "url": "https://github.com/octo-org/hello/issues/42",
           "createdAt": "2026-10-01T10:00:00Z", "updatedAt": "2026-10-02T10:00:00Z"})
}

pub fn definition() -> Definition {
    Definition::builder("github", "1.0.0", "GitHub: list repositories, search, read, create and update issues, comment, list pull requests and read files, on github.com or GitHub Enterprise.")
        .category("developer-tools")
        .tags(&["github", "git", "issues", "pull-requests", "code"])
        .tool_prefix("github")
        .docs_url("https://docs.github.com/en/rest")
        .scopes(&["repo", "read:user"])
        .oauth("github")
        .config(FieldSpec::string("apiBaseUrl").default_value(client::DEFAULT_API).describe("API base: https://api.github.com, or https://HOST/api/v3 for GitHub Enterprise Server."))
        .config(FieldSpec::secret("accessToken").describe("A personal access token (classic or fine-grained) or an OAuth token; filled by the hub's OAuth sign-in when used."))
        .config(FieldSpec::new("timeoutMs", FieldKind::integer_range(100, 120_000)).default_value(30_000).describe("Per-request timeout in milliseconds."))
        .command(
            CommandSpec::new("health", Access::Read, "Check GitHub answers with the configured token; returns the login and the rate-limit snapshot.")
                .outputs(["ok", "login"])
                .mock_payload("default", json!({"ok": true, "login": "octocat"})),
            health,
        )
        .command(
            CommandSpec::new("whoami", Access::Read, "The GitHub account the token belongs to: login, name, email, type.")
                .projection()
                .outputs(["login", "name"])
                .mock_payload("default", json!({"login": "octocat", "id": 583231, "name": "The Octocat", "email": "octocat@github.example", "type": "User"})),
            whoami,
        )
        .command(
            CommandSpec::new("list_repos", Access::Read, "List repositories: the token owner's (including organisations they belong to), or one organisation's with org. Most recently updated first. Paged: pass nextCursor back as cursor.")
                .param(FieldSpec::string("org").describe("Only this organisation's repositories, e.g. octo-org."))
                .paginated()
                .projection()
                .outputs(["items"])
                .mock_payload("default", json!({"items": [{"fullName": "octo-org/hello", "name": "hello", "private": false, "defaultBranch": "main", "url": "https://github.com/octo-org/hello"}]})),
            list_repos,
        )
        .command(
            CommandSpec::new("get_issue", Access::Read, "Get one issue (or pull request, which GitHub treats as an issue) by repository and number: title, body, state, labels, author, assignees.")
                .param(FieldSpec::string("repo").required().describe("owner/name, e.g. octo-org/hello."))
                .param(FieldSpec::integer("number").required().describe("Issue number."))
                .projection()
                .outputs(["number", "title", "state", "body"])
                .mock_payload("default", {let mut i = sample_issue(); i["body"] = json!("Steps to reproduce."); i})
                .mock_error("not_found", ConnectorError::not_found("GitHub answered 404: Not Found.").with_vendor_code("404")),
            get_issue,
        )
        .command(
            CommandSpec::new("search_issues", Access::Read, "Search issues and pull requests with GitHub search syntax, e.g. repo:octo-org/hello is:issue state:open label:bug crash. Returns number, title, state, labels, author, url. Paged: pass nextCursor back as cursor.")
                .param(FieldSpec::string("query").required().describe("GitHub search query; qualifiers like repo:, is:issue, is:pr, state:, label:, author: narrow it."))
                .paginated()
                .projection()
                .outputs(["items", "total"])
                .mock_payload("default", json!({"items": [sample_issue()], "total": 1}))
                .mock_error("invalid_query", ConnectorError::invalid_input("GitHub answered 422: Validation Failed (Search.q: invalid). Change the named fields and call again.").with_vendor_code("invalid")),
            search_issues,
        )
        .command(
            CommandSpec::new("create_issue", Access::Write, "Open an issue in a repository with a title, an optional Markdown body, labels and assignees (logins). Pass idempotencyKey so a retry does not open a duplicate.")
                .param(FieldSpec::string("repo").required().describe("owner/name, e.g. octo-org/hello."))
                .param(FieldSpec::string("title").required().describe("Issue title."))
                .param(FieldSpec::string("body").describe("Issue body in Markdown."))
                .param(FieldSpec::new("labels", FieldKind::StringList).describe("Label names."))
                .param(FieldSpec::new("assignees", FieldKind::StringList).describe("Logins to assign."))
                .idempotency_key()
                .outputs(["number", "url"])
                .mock_payload("default", sample_issue()),
            create_issue,
        )
        .command(
            CommandSpec::new("update_issue", Access::Write, "Change an issue: title, body, state (open or closed), labels (replaces them) or assignees. Only given fields change.")
                .param(FieldSpec::string("repo").required().describe("owner/name, e.g. octo-org/hello."))
                .param(FieldSpec::integer("number").required().describe("Issue number."))
                .param(FieldSpec::string("title").describe("New title."))
                .param(FieldSpec::string("body").describe("New body in Markdown."))
                .param(FieldSpec::new("state", FieldKind::select(["open", "closed"])).describe("open or closed."))
                .param(FieldSpec::new("labels", FieldKind::StringList).describe("Label names; replaces the current labels."))
                .param(FieldSpec::new("assignees", FieldKind::StringList).describe("Logins; replaces the current assignees."))
                .idempotency_key()
                .outputs(["number", "state"])
                .mock_payload("default", {let mut i = sample_issue(); i["state"] = json!("closed"); i}),
            update_issue,
        )
        .command(
            CommandSpec::new("add_comment", Access::Write, "Comment on an issue or pull request (Markdown). Pass idempotencyKey so a retry does not comment twice.")
                .param(FieldSpec::string("repo").required().describe("owner/name, e.g. octo-org/hello."))
                .param(FieldSpec::integer("number").required().describe("Issue or pull request number."))
                .param(FieldSpec::string("body").required().describe("Comment text in Markdown."))
                .idempotency_key()
                .outputs(["id", "url"])
                .mock_payload("default", json!({"id": 9001, "url": "https://github.com/octo-org/hello/issues/42#issuecomment-9001", "createdAt": "2026-11-21T12:00:00Z"})),
            add_comment,
        )
        .command(
            CommandSpec::new("list_pull_requests", Access::Read, "List a repository's pull requests (open by default): number, title, state, draft, author, head and base branches. Paged: pass nextCursor back as cursor.")
                .param(FieldSpec::string("repo").required().describe("owner/name, e.g. octo-org/hello."))
                .param(FieldSpec::new("state", FieldKind::select(["open", "closed", "all"])).default_value("open").describe("Which pull requests."))
                .paginated()
                .projection()
                .outputs(["items"])
                .mock_payload("default", json!({"items": [{"number": 101, "title": "Feature 1", "state": "open", "draft": false, "author": "octocat", "head": "feature-1", "base": "main"}]})),
            list_pull_requests,
        )
        .command(
            CommandSpec::new("get_file", Access::Read, "Read a file from a repository at a branch, tag or commit (default branch when ref is omitted); returns its text (or base64 for binary files), size and sha.")
                .param(FieldSpec::string("repo").required().describe("owner/name, e.g. octo-org/hello."))
                .param(FieldSpec::string("path").required().describe("File path in the repository, e.g. src/main.rs."))
                .param(FieldSpec::string("ref").describe("Branch, tag or commit sha."))
                .projection()
                .outputs(["path", "content", "sha"])
                .mock_payload("default", json!({"path": "README.md", "encoding": "utf-8", "content": "# hello\n", "size": 8, "sha": "3d21ec53a331a6f037a91c368710b99387d012c1"})),
            get_file,
        )
        .build()
}

/// `owner/name`, each part checked so it cannot add path segments.
fn repo(call: &Call) -> Result<String, ConnectorError> {
    let raw = call.str_param("repo").unwrap_or_default().trim();
    let ok_part = |p: &str| {
        !p.is_empty()
            && p != "."
            && p != ".."
            && p.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    };
    match raw.split_once('/') {
        Some((owner, name)) if ok_part(owner) && ok_part(name) => Ok(format!("{owner}/{name}")),
        _ => Err(ConnectorError::invalid_input(format!(
            "repo '{raw}' must be owner/name, e.g. octo-org/hello"
        ))),
    }
}

fn number(call: &Call) -> Result<u64, ConnectorError> {
    call.params
        .get("number")
        .and_then(Value::as_u64)
        .filter(|n| *n > 0)
        .ok_or_else(|| ConnectorError::invalid_input("number must be a positive issue number"))
}

fn flatten_issue(i: &Value) -> Value {
    json!({"number": i["number"], "title": i["title"], "state": i["state"], "body": i["body"],
           "labels": i["labels"].as_array().map(|a| a.iter().map(|l| l["name"].clone()).collect::<Vec<_>>()).unwrap_or_default(),
           "author": i["user"]["login"],
           "assignees": i["assignees"].as_array().map(|a| a.iter().map(|u| u["login"].clone()).collect::<Vec<_>>()).unwrap_or_default(),
           "comments": i["comments"], "isPullRequest": i.get("pull_request").is_some(),
           "url": i["html_url"], "createdAt": i["created_at"], "updatedAt": i["updated_at"]})
}

/// The request for this page: the cursor's `Link` URL, or the first page.
fn page_request(
    call: &Call,
    c: &Client,
    first: impl FnOnce() -> String,
) -> Result<switchboard_runtime::http::OutboundRequest, ConnectorError> {
    match call.cursor.as_ref().and_then(|s| s["next"].as_str()) {
        Some(next) => c.follow(next),
        None => Ok(c.request(Method::GET, &first())),
    }
}

/// One page of a list, with its signed continuation and a warning for a foreign link.
fn paged(
    c: &Client,
    resp: &switchboard_runtime::http::OutboundResponse,
    payload: Value,
) -> Success {
    let (next, foreign) = c.next_link(resp);
    let mut s = Success::new(payload)
        .next_page(next.map(|n| json!({"next": n})))
        .rate_limit(resp.rate_limit.clone());
    if foreign {
        s = s.warn("GitHub sent a next-page link outside the configured API; it was not followed");
    }
    s
}

async fn user(
    call: &Call,
) -> Result<
    (Value, Option<switchboard_contract::envelope::RateLimit>),
    Box<switchboard_contract::Failure>,
> {
    let c = Client::from_call(call)?;
    let resp = c.send(call, c.request(Method::GET, "/user")).await?;
    Ok((resp.json_value(), resp.rate_limit.clone()))
}

async fn health(call: Call) -> Outcome {
    let (me, rl) = user(&call).await?;
    Ok(Success::new(json!({"ok": true, "login": me["login"]})).rate_limit(rl))
}

async fn whoami(call: Call) -> Outcome {
    let (me, rl) = user(&call).await?;
    Ok(Success::new(json!({"login": me["login"], "id": me["id"], "name": me["name"], "email": me["email"], "type": me["type"]}))
        .variable("login", me["login"].clone())
        .rate_limit(rl))
}

fn qs(pairs: &[(&str, String)]) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        s.append_pair(k, v);
    }
    s.finish()
}

fn segment(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

async fn list_repos(call: Call) -> Outcome {
    let c = Client::from_call(&call)?;
    let per_page = call.limit(30, 100).to_string();
    let org = call.str_param("org").map(str::to_string);
    let req = page_request(&call, &c, || match &org {
        Some(o) => format!(
            "/orgs/{}/repos?{}",
            segment(o),
            qs(&[("sort", "updated".into()), ("per_page", per_page.clone())])
        ),
        None => format!(
            "/user/repos?{}",
            qs(&[("sort", "updated".into()), ("per_page", per_page.clone())])
        ),
    })?;
    let resp = c.send(&call, req).await?;
    let items: Vec<Value> = resp.json_value().as_array().map(|a| a.iter().map(|r| json!({
        "fullName": r["full_name"], "name": r["name"], "owner": r["owner"]["login"], "private": r["private"],
        "description": r["description"], "defaultBranch": r["default_branch"], "url": r["html_url"], "updatedAt": r["updated_at"]})).collect()).unwrap_or_default();
    Ok(paged(&c, &resp, json!({"items": items})))
}

async fn get_issue(call: Call) -> Outcome {
    let c = Client::from_call(&call)?;
    let (repo, n) = (repo(&call)?, number(&call)?);
    let resp = c
        .send(
            &call,
            c.request(Method::GET, &format!("/repos/{repo}/issues/{n}")),
        )
        .await?;
    Ok(Success::new(flatten_issue(&resp.json_value())).rate_limit(resp.rate_limit.clone()))
}

async fn search_issues(call: Call) -> Outcome {
    let c = Client::from_call(&call)?;
    let query = call
        .str_param("query")
        .unwrap_or_default()
        .trim()
        .to_string();
    if query.is_empty() && call.cursor.is_none() {
        return fail(ConnectorError::invalid_input(
            "query is empty; e.g. repo:octo-org/hello is:issue state:open",
        ));
    }
    let per_page = call.limit(30, 100).to_string();
    let req = page_request(&call, &c, || {
        format!(
            "/search/issues?{}",
            qs(&[("q", query.clone()), ("per_page", per_page)])
        )
    })?;
    let resp = c.send(&call, req).await?;
    let body = resp.json_value();
    let items: Vec<Value> = body["items"]
        .as_array()
        .map(|a| a.iter().map(flatten_issue).collect())
        .unwrap_or_default();
    let mut s = paged(
        &c,
        &resp,
        json!({"items": items, "total": body["total_count"]}),
    );
    if body["incomplete_results"] == json!(true) {
        s = s.warn("GitHub timed out part of the search; results may be incomplete");
    }
    Ok(s)
}

/// The JSON body of a create or update from the params that were given.
fn issue_body(call: &Call) -> Map<String, Value> {
    let mut body = Map::new();
    for k in ["title", "body", "state", "labels", "assignees"] {
        if let Some(v) = call.params.get(k) {
            body.insert(k.to_string(), v.clone());
        }
    }
    body
}

async fn create_issue(call: Call) -> Outcome {
    let c = Client::from_call(&call)?;
    let repo = repo(&call)?;
    let resp = c
        .send(
            &call,
            c.request(Method::POST, &format!("/repos/{repo}/issues"))
                .json(Value::Object(issue_body(&call))),
        )
        .await?;
    let issue = flatten_issue(&resp.json_value());
    Ok(Success::new(issue.clone())
        .variable("issueNumber", issue["number"].clone())
        .rate_limit(resp.rate_limit.clone()))
}

async fn update_issue(call: Call) -> Outcome {
    let c = Client::from_call(&call)?;
    let (repo, n) = (repo(&call)?, number(&call)?);
    let body = issue_body(&call);
    if body.is_empty() {
        return fail(ConnectorError::invalid_input(
            "nothing to update: give title, body, state, labels or assignees",
        ));
    }
    let resp = c
        .send(
            &call,
            c.request(Method::PATCH, &format!("/repos/{repo}/issues/{n}"))
                .json(Value::Object(body)),
        )
        .await?;
    Ok(Success::new(flatten_issue(&resp.json_value())).rate_limit(resp.rate_limit.clone()))
}

async fn add_comment(call: Call) -> Outcome {
    let c = Client::from_call(&call)?;
    let (repo, n) = (repo(&call)?, number(&call)?);
    let text = call.str_param("body").unwrap_or_default();
    let resp = c
        .send(
            &call,
            c.request(Method::POST, &format!("/repos/{repo}/issues/{n}/comments"))
                .json(json!({"body": text})),
        )
        .await?;
    let made = resp.json_value();
    Ok(Success::new(
        json!({"id": made["id"], "url": made["html_url"], "createdAt": made["created_at"]}),
    )
    .variable("commentId", made["id"].clone())
    .rate_limit(resp.rate_limit.clone()))
}

async fn list_pull_requests(call: Call) -> Outcome {
    let c = Client::from_call(&call)?;
    let repo = repo(&call)?;
    let state = call.str_param("state").unwrap_or("open").to_string();
    let per_page = call.limit(30, 100).to_string();
    let req = page_request(&call, &c, || {
        format!(
            "/repos/{repo}/pulls?{}",
            qs(&[("state", state), ("per_page", per_page)])
        )
    })?;
    let resp = c.send(&call, req).await?;
    let items: Vec<Value> = resp.json_value().as_array().map(|a| a.iter().map(|p| json!({
        "number": p["number"], "title": p["title"], "state": p["state"], "draft": p["draft"], "author": p["user"]["login"],
        "head": p["head"]["ref"], "base": p["base"]["ref"], "url": p["html_url"], "updatedAt": p["updated_at"]})).collect()).unwrap_or_default();
    Ok(paged(&c, &resp, json!({"items": items})))
}

async fn get_file(call: Call) -> Outcome {
    let c = Client::from_call(&call)?;
    let repo = repo(&call)?;
    let path = call
        .str_param("path")
        .unwrap_or_default()
        .trim()
        .trim_start_matches('/')
        .to_string();
    if path.is_empty()
        || path
            .split('/')
            .any(|s| s.is_empty() || s == "." || s == "..")
    {
        return fail(ConnectorError::invalid_input(format!(
            "path '{path}' must be a file path in the repository, e.g. src/main.rs"
        )));
    }
    let encoded: Vec<String> = path.split('/').map(segment).collect();
    let mut url = format!("/repos/{repo}/contents/{}", encoded.join("/"));
    if let Some(r) = call.str_param("ref").filter(|r| !r.is_empty()) {
        url.push_str(&format!("?{}", qs(&[("ref", r.to_string())])));
    }
    let resp = c.send(&call, c.request(Method::GET, &url)).await?;
    let f = resp.json_value();
    if f["type"] != json!("file") {
        return fail(ConnectorError::invalid_input(format!(
            "'{path}' is a {}, not a file",
            f["type"].as_str().unwrap_or("directory")
        )));
    }
    let raw: String = f["content"]
        .as_str()
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(raw.as_bytes())
        .map_err(|_| {
            ConnectorError::upstream("GitHub sent file content that is not valid base64")
        })?;
    let (encoding, content) = match String::from_utf8(bytes) {
        Ok(text) => ("utf-8", text),
        Err(_) => ("base64", raw),
    };
    Ok(Success::new(json!({"path": f["path"], "encoding": encoding, "content": content, "size": f["size"], "sha": f["sha"], "url": f["html_url"]}))
        .rate_limit(resp.rate_limit.clone()))
}
