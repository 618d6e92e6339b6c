//! `confluence`: Confluence Cloud. CQL search (REST v1, the only API with CQL), pages
//! and spaces (REST v2). Page bodies are written as plain text or Markdown, converted
//! to Confluence storage format (XHTML); updates take the page's version number and
//! fetch the current one when none is given. Auth and addressing are the same as
//! Jira's (site URL + email + API token, or OAuth access token + cloud id), so the
//! Atlassian client is shared.

use http::Method;
use serde_json::{json, Value};
use switchboard_contract::{
    fail, Access, CommandSpec, ConnectorError, FieldKind, FieldSpec, Outcome, Success,
};
use switchboard_runtime::{Call, Definition};

use crate::jira::client::{safe_relative, segment, Client};

const VENDOR: &str = "Confluence";
const SEARCH_NEXT: &str = "/rest/api/search?";
const SPACES_NEXT: &str = "/wiki/api/v2/spaces?";

pub fn definition() -> Definition {
    Definition::builder("confluence", "1.0.0", "Confluence Cloud: search pages with CQL, read pages, create and update pages from Markdown, list spaces.")
        .category("knowledge-base")
        .tags(&["confluence", "atlassian", "wiki", "docs"])
        .tool_prefix("confluence")
        .docs_url("https://developer.atlassian.com/cloud/confluence/rest/v2/")
        .scopes(&["read:page:confluence", "write:page:confluence", "read:space:confluence", "search:confluence", "offline_access"])
        .oauth("atlassian")
        .config(FieldSpec::string("siteUrl").describe("Your Atlassian site, e.g. https://your-site.atlassian.net (needed with email + apiToken)."))
        .config(FieldSpec::string("email").describe("Atlassian account email, used with apiToken for basic auth."))
        .config(FieldSpec::secret("apiToken").describe("Atlassian API token (id.atlassian.com → Security → API tokens)."))
        .config(FieldSpec::secret("accessToken").describe("OAuth 2.0 access token; used instead of email + apiToken when set."))
        .config(FieldSpec::string("cloudId").describe("The site's cloud id; with accessToken, requests go to https://api.atlassian.com/ex/confluence/{cloudId}."))
        .config(FieldSpec::string("apiBaseUrl").describe("Override where REST calls go (a proxy or a simulator); takes precedence over siteUrl and cloudId."))
        .config(FieldSpec::new("timeoutMs", FieldKind::integer_range(100, 120_000)).default_value(30_000).describe("Per-request timeout in milliseconds."))
        .command(
            CommandSpec::new("health", Access::Read, "Check Confluence answers with the configured credential; returns the signed-in user and auth mode.")
                .outputs(["ok", "user"])
                .mock_payload("default", json!({"ok": true, "user": "Agent Smith", "authMode": "apiToken"})),
            health,
        )
        .command(
            CommandSpec::new("search", Access::Read, "Find pages with CQL, e.g. type = page AND space = ENG AND text ~ \"runbook\" (fields: type, space, title, text, label, creator, lastmodified). Returns id, title, excerpt, url. Paged: pass nextCursor back as cursor.")
                .param(FieldSpec::string("cql").required().describe("A CQL query."))
                .paginated()
                .projection()
                .outputs(["items"])
                .mock_payload("default", json!({"items": [{"id": "100001", "title": "Runbook 01", "excerpt": "Steps for runbook 1.", "url": "https://your-site.atlassian.net/wiki/spaces/ENG/pages/100001"}]}))
                .mock_error("cql_error", ConnectorError::invalid_input("Confluence rejected the request (400): Could not parse cql. Fix the CQL and call again.").with_vendor_code("400")),
            search,
        )
        .command(
            CommandSpec::new("get_page", Access::Read, "Get a page by id: title, space id, version number (needed to update it) and body in storage format (XHTML).")
                .param(FieldSpec::string("pageId").required().describe("Page id (digits), e.g. from search."))
                .projection()
                .outputs(["id", "title", "version", "body"])
                .mock_payload("default", json!({"id": "100001", "title": "Runbook 01", "spaceId": "65000", "version": 1, "body": "<p>Steps.</p>"}))
                .mock_error("not_found", ConnectorError::not_found("Confluence rejected the request (404): Not Found.").with_vendor_code("NOT_FOUND")),
            get_page,
        )
        .command(
            CommandSpec::new("create_page", Access::Write, "Create a page in a space (by space id, see list_spaces) with a title and a body in plain text or Markdown (converted to Confluence format), optionally under a parent page. Pass idempotencyKey so a retry does not create a duplicate.")
                .param(FieldSpec::string("spaceId").required().describe("Space id (digits) from list_spaces."))
                .param(FieldSpec::string("title").required().describe("Page title; unique in the space."))
                .param(FieldSpec::string("body").required().describe("Page content, plain text or Markdown."))
                .param(FieldSpec::string("parentId").describe("Parent page id."))
                .idempotency_key()
                .outputs(["id", "version"])
                .mock_payload("default", json!({"id": "200000", "title": "New page", "version": 1})),
            create_page,
        )
        .command(
            CommandSpec::new("update_page", Access::Write, "Replace a page's body (plain text or Markdown) and optionally its title. Give version, the page's current version number from get_page, to refuse overwriting someone else's change (conflict); without it the current version is fetched first.")
                .param(FieldSpec::string("pageId").required().describe("Page id."))
                .param(FieldSpec::string("body").required().describe("New content, plain text or Markdown."))
                .param(FieldSpec::string("title").describe("New title; unchanged when omitted."))
                .param(FieldSpec::new("version", FieldKind::integer_range(1, i64::MAX)).describe("The version you read (from get_page); the update becomes version + 1."))
                .idempotency_key()
                .outputs(["id", "version"])
                .mock_payload("default", json!({"id": "100001", "title": "Runbook 01", "version": 2}))
                .mock_error("conflict", ConnectorError::conflict("Confluence rejected the request (409): Version must be incremented when updating a page.").with_vendor_code("CONFLICT")),
            update_page,
        )
        .command(
            CommandSpec::new("list_spaces", Access::Read, "List spaces: id (for create_page), key (for CQL), name, type. Paged: pass nextCursor back as cursor.")
                .paginated()
                .projection()
                .outputs(["items"])
                .mock_payload("default", json!({"items": [{"id": "65000", "key": "ENG", "name": "Engineering", "type": "global"}]})),
            list_spaces,
        )
        .build()
}

fn client(call: &Call) -> Result<Client, ConnectorError> {
    Client::from_call(call, "confluence", VENDOR)
}

/// Markdown (or plain text) → Confluence storage format.
pub fn storage_from_markdown(markdown: &str) -> String {
    let mut html = String::new();
    pulldown_cmark::html::push_html(
        &mut html,
        pulldown_cmark::Parser::new_ext(markdown, pulldown_cmark::Options::ENABLE_STRIKETHROUGH),
    );
    html
}

fn page_id(call: &Call) -> Result<String, ConnectorError> {
    let id = call.str_param("pageId").unwrap_or_default().trim();
    if id.is_empty() || !id.chars().all(|c| c.is_ascii_digit()) {
        return Err(ConnectorError::invalid_input(format!(
            "pageId '{id}' must be a page id (digits), e.g. from search"
        )));
    }
    Ok(id.to_string())
}

fn render_page(p: &Value) -> Value {
    json!({"id": p["id"], "title": p["title"], "spaceId": p["spaceId"], "parentId": p["parentId"],
           "version": p["version"]["number"], "body": p["body"]["storage"]["value"]})
}

async fn health(call: Call) -> Outcome {
    let c = client(&call)?;
    let resp = c
        .send(&call, c.request(Method::GET, "/wiki/rest/api/user/current"))
        .await?;
    let me = resp.json_value();
    Ok(Success::new(json!({"ok": true, "user": me["displayName"], "accountId": me["accountId"], "authMode": c.auth_mode()})).rate_limit(resp.rate_limit.clone()))
}

async fn search(call: Call) -> Outcome {
    let c = client(&call)?;
    let req = match call.cursor.as_ref().and_then(|s| s["next"].as_str()) {
        Some(next) if safe_relative(next, SEARCH_NEXT) => {
            c.request(Method::GET, &format!("/wiki{next}"))
        }
        Some(_) => {
            return fail(ConnectorError::invalid_input(
                "the cursor does not point at this site's search; drop it and search again",
            ))
        }
        None => {
            let cql = call.str_param("cql").unwrap_or_default().trim().to_string();
            if cql.is_empty() {
                return fail(ConnectorError::invalid_input(
                    "cql is empty; e.g. type = page AND text ~ \"runbook\"",
                ));
            }
            let qs = url::form_urlencoded::Serializer::new(String::new())
                .append_pair("cql", &cql)
                .append_pair("limit", &call.limit(25, 100).to_string())
                .finish();
            c.request(Method::GET, &format!("/wiki/rest/api/search?{qs}"))
        }
    };
    let resp = c
        .send_as(&call, req, Some("Fix the CQL and call again."))
        .await?;
    let body = resp.json_value();
    let site = c.site.as_deref().map(|s| format!("{s}/wiki"));
    let items: Vec<Value> = body["results"].as_array().map(|a| a.iter().map(|r| json!({
        "id": r["content"]["id"], "type": r["content"]["type"], "title": r["content"]["title"], "excerpt": r["excerpt"],
        "url": match (&site, r["url"].as_str()) { (Some(s), Some(u)) => json!(format!("{s}{u}")), (_, u) => json!(u) },
        "lastModified": r["lastModified"]})).collect()).unwrap_or_default();
    let next = body["_links"]["next"]
        .as_str()
        .filter(|n| safe_relative(n, SEARCH_NEXT));
    Ok(
        Success::new(json!({"items": items, "total": body["totalSize"]}))
            .next_page(next.map(|n| json!({"next": n})))
            .rate_limit(resp.rate_limit.clone()),
    )
}

async fn get_page(call: Call) -> Outcome {
    let c = client(&call)?;
    let id = page_id(&call)?;
    let resp = c
        .send(
            &call,
            c.request(
                Method::GET,
                &format!("/wiki/api/v2/pages/{}?body-format=storage", segment(&id)),
            ),
        )
        .await?;
    Ok(Success::new(render_page(&resp.json_value())).rate_limit(resp.rate_limit.clone()))
}

async fn create_page(call: Call) -> Outcome {
    let c = client(&call)?;
    let space = call
        .str_param("spaceId")
        .unwrap_or_default()
        .trim()
        .to_string();
    let title = call
        .str_param("title")
        .unwrap_or_default()
        .trim()
        .to_string();
    if title.is_empty() {
        return fail(ConnectorError::invalid_input(
            "title is empty; give the page a title",
        ));
    }
    let mut body = json!({"spaceId": space, "status": "current", "title": title,
        "body": {"representation": "storage", "value": storage_from_markdown(call.str_param("body").unwrap_or_default())}});
    if let Some(parent) = call.str_param("parentId").filter(|p| !p.is_empty()) {
        body["parentId"] = json!(parent);
    }
    let resp = c
        .send(
            &call,
            c.request(Method::POST, "/wiki/api/v2/pages").json(body),
        )
        .await?;
    let page = render_page(&resp.json_value());
    Ok(
        Success::new(json!({"id": page["id"], "title": page["title"], "version": page["version"]}))
            .variable("pageId", page["id"].clone())
            .rate_limit(resp.rate_limit.clone()),
    )
}

async fn update_page(call: Call) -> Outcome {
    let c = client(&call)?;
    let id = page_id(&call)?;
    let path = format!("/wiki/api/v2/pages/{}", segment(&id));
    let given = call.params.get("version").and_then(Value::as_u64);
    let title = call.str_param("title").map(str::to_string);
    // Without a version (or a title) to send, read the page first.
    let (version, title) = match (given, title) {
        (Some(v), Some(t)) => (v, t),
        (v, t) => {
            let resp = c.send(&call, c.request(Method::GET, &path)).await?;
            let current = resp.json_value();
            (
                v.unwrap_or_else(|| current["version"]["number"].as_u64().unwrap_or(1)),
                t.unwrap_or_else(|| current["title"].as_str().unwrap_or_default().to_string()),
            )
        }
    };
    let body = json!({"id": id, "status": "current", "title": title,
        "body": {"representation": "storage", "value": storage_from_markdown(call.str_param("body").unwrap_or_default())},
        "version": {"number": version + 1}});
    let resp = c
        .send(&call, c.request(Method::PUT, &path).json(body))
        .await?;
    let page = render_page(&resp.json_value());
    Ok(
        Success::new(json!({"id": page["id"], "title": page["title"], "version": page["version"]}))
            .rate_limit(resp.rate_limit.clone()),
    )
}

async fn list_spaces(call: Call) -> Outcome {
    let c = client(&call)?;
    let req = match call.cursor.as_ref().and_then(|s| s["next"].as_str()) {
        Some(next) if safe_relative(next, SPACES_NEXT) => c.request(Method::GET, next),
        Some(_) => {
            return fail(ConnectorError::invalid_input(
                "the cursor does not point at this site's spaces; drop it and start over",
            ))
        }
        None => c.request(
            Method::GET,
            &format!("/wiki/api/v2/spaces?limit={}", call.limit(25, 250)),
        ),
    };
    let resp = c.send(&call, req).await?;
    let body = resp.json_value();
    let items: Vec<Value> = body["results"].as_array().map(|a| a.iter().map(|s| json!({"id": s["id"], "key": s["key"], "name": s["name"], "type": s["type"]})).collect()).unwrap_or_default();
    let next = body["_links"]["next"]
        .as_str()
        .filter(|n| safe_relative(n, SPACES_NEXT));
    Ok(Success::new(json!({"items": items}))
        .next_page(next.map(|n| json!({"next": n})))
        .rate_limit(resp.rate_limit.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_becomes_storage_format() {
        assert_eq!(
            storage_from_markdown("# T\n\n- a\n- **b**\n"),
            "<h1>T</h1>\n<ul>\n<li>a</li>\n<li><strong>b</strong></li>\n</ul>\n"
        );
    }

    #[test]
    fn next_links_stay_on_the_site() {
        assert!(safe_relative(
            "/rest/api/search?cursor=x&cql=a%2Fb",
            SEARCH_NEXT
        ));
        for bad in [
            "https://evil/rest/api/search?x",
            "//evil/rest/api/search?",
            "/rest/api/search/../../x?",
            "/rest/api/content?x",
        ] {
            assert!(!safe_relative(bad, SEARCH_NEXT), "{bad}");
        }
    }
}
