//! `jira`: Jira Cloud over REST v3. Search with JQL through the enhanced search
//! endpoint (`/rest/api/3/search/jql`, paged with `nextPageToken`, which lives inside
//! the hub's signed cursor), read, create and edit issues with plain-text or Markdown
//! descriptions converted to Atlassian Document Format, comment, and move issues
//! through their workflow.
//!
//! Credentials: site URL + email + API token (basic), or an OAuth access token with the
//! site's cloud id (requests then go through `api.atlassian.com/ex/jira/{cloudId}`).
//! `apiBaseUrl` overrides where requests go (a simulator, a proxy).

pub mod adf;
pub mod client;

use http::Method;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use switchboard_contract::{
    fail, Access, CommandSpec, ConnectorError, FieldKind, FieldSpec, Outcome, Success,
};
use switchboard_runtime::{Call, Definition};

use client::{segment, Client};

const VENDOR: &str = "Jira";
/// Fields a search asks for by default: what the flattened issue shows.
const SEARCH_FIELDS: [&str; 10] = [
    "summary",
    "status",
    "issuetype",
    "priority",
    "assignee",
    "reporter",
    "project",
    "labels",
    "created",
    "updated",
];

fn sample_issue() -> Value {
    json!({"id": "10001", "key": "ENG-1", "url": "https://your-site.atlassian.net/browse/ENG-1",
           "summary": "Fix the login timeout", "status": "In Progress", "statusCategory": "indeterminate",
           "issueType": "Bug", "priority": "High", "assignee": "Ada Lovelace", "reporter": "Grace Hopper",
           "project": "ENG", "labels": ["backend"], "created": "2026-01-02T10:00:00.000+0000",
           "updated": "2026-01-03T09:30:00.000+0000"})
}

pub fn definition() -> Definition {
    Definition::builder("jira", "1.0.0", "Jira Cloud: search issues with JQL, read, create and update issues (Markdown descriptions), comment, and move issues through their workflow.")
        .category("project-management")
        .tags(&["jira", "atlassian", "issues", "tickets", "agile"])
        .tool_prefix("jira")
        .docs_url("https://developer.atlassian.com/cloud/jira/platform/rest/v3/")
        .scopes(&["read:jira-work", "write:jira-work", "read:jira-user", "offline_access"])
        .oauth("atlassian")
        .config(FieldSpec::string("siteUrl").describe("Your Jira site, e.g. https://your-site.atlassian.net (needed with email + apiToken)."))
        .config(FieldSpec::string("email").describe("Atlassian account email, used with apiToken for basic auth."))
        .config(FieldSpec::secret("apiToken").describe("Atlassian API token (id.atlassian.com → Security → API tokens)."))
        .config(FieldSpec::secret("accessToken").describe("OAuth 2.0 access token; when set it is used instead of email + apiToken. Filled by the hub's OAuth sign-in, or pasted."))
        .config(FieldSpec::string("cloudId").describe("The site's cloud id; with accessToken, requests go to https://api.atlassian.com/ex/jira/{cloudId}."))
        .config(FieldSpec::string("apiBaseUrl").describe("Override where REST calls go (a proxy or a simulator); takes precedence over siteUrl and cloudId."))
        .config(FieldSpec::new("timeoutMs", FieldKind::integer_range(100, 120_000)).default_value(30_000).describe("Per-request timeout in milliseconds."))
        .command(
            CommandSpec::new("health", Access::Read, "Check Jira answers with the configured credential; returns the signed-in user, the auth mode and the rate-limit snapshot.")
                .outputs(["ok", "user", "authMode"])
                .mock_payload("default", json!({"ok": true, "user": "Agent Smith", "accountId": "5b10ac8d82e05b22cc7d4ef5", "authMode": "apiToken"}))
                .mock_error("unauthorized", ConnectorError::new(switchboard_contract::ErrorCode::Unauthorized, "Jira answered 401. Check email and apiToken, or refresh accessToken.").with_vendor_code("401")),
            health,
        )
        .command(
            CommandSpec::new("whoami", Access::Read, "The Jira account the connector acts as: accountId (use it to assign issues), display name, email, time zone.")
                .projection()
                .outputs(["accountId", "displayName", "emailAddress"])
                .mock_payload("default", json!({"accountId": "5b10ac8d82e05b22cc7d4ef5", "displayName": "Agent Smith", "emailAddress": "agent@example.com", "timeZone": "Europe/Berlin", "active": true})),
            whoami,
        )
        .command(
            CommandSpec::new("list_projects", Access::Read, "List the Jira projects the account can see (key, name, type), optionally filtered by text in the key or name. Use a project key in JQL (project = ENG) or in create_issue. Paged: pass nextCursor back as cursor.")
                .param(FieldSpec::string("query").describe("Only projects whose key or name contains this text."))
                .paginated()
                .projection()
                .outputs(["items"])
                .mock_payload("default", json!({"items": [{"id": "10000", "key": "ENG", "name": "Engineering", "projectType": "software"}]}))
                .mock_payload("empty", json!({"items": []})),
            list_projects,
        )
        .command(
            CommandSpec::new("get_issue", Access::Read, "Get one issue by key (e.g. ENG-42) or id: summary, status, type, priority, people, labels, dates, description as plain text, and recent comments.")
                .param(FieldSpec::string("issueKey").required().describe("Issue key like ENG-42, or the numeric issue id."))
                .projection()
                .outputs(["key", "summary", "status", "description"])
                .mock_payload("default", {
                    let mut i = sample_issue();
                    i["description"] = json!("Users are logged out after 5 minutes.");
                    i["comments"] = json!([]);
                    i
                })
                .mock_error("not_found", ConnectorError::not_found("Jira rejected the request (404): Issue does not exist or you do not have permission to see it.").with_vendor_code("404")),
            get_issue,
        )
        .command(
            CommandSpec::new("search_issues", Access::Read, "Find issues with JQL, e.g. project = ENG AND status != Done ORDER BY created DESC, or text ~ \"login\". Returns flattened issues (key, summary, status, type, priority, assignee, labels, dates). fields picks what to return, including custom fields like customfield_10010 and description. Paged (up to 100 per page): pass nextCursor back as cursor with the same jql.")
                .param(FieldSpec::string("jql").required().describe("A JQL query; it must restrict the search (e.g. project = ENG), Jira refuses unbounded queries."))
                .paginated()
                .projection()
                .outputs(["items"])
                .mock_payload("default", json!({"items": [sample_issue()]}))
                .mock_payload("empty", json!({"items": []}))
                .mock_error("jql_error", ConnectorError::invalid_input("Jira rejected the request (400): Error in the JQL Query: Expecting either a value, list or function but got end of query. (line 1, character 10). Fix the JQL and call again.").with_vendor_code("400")),
            search_issues,
        )
        .command(
            CommandSpec::new("create_issue", Access::Write, "Create an issue in a project. Give projectKey, issueType (Task, Bug, Story, Epic… as the project defines them), summary, and optionally a description in plain text or Markdown (converted for Jira) and more Jira fields (labels, priority {\"name\": \"High\"}, assignee {\"accountId\": …}, custom fields). Pass idempotencyKey so a retry does not create a duplicate.")
                .param(FieldSpec::string("projectKey").required().describe("Project key, e.g. ENG (see list_projects)."))
                .param(FieldSpec::string("issueType").required().describe("Issue type name, e.g. Task, Bug or Story."))
                .param(FieldSpec::string("summary").describe("One-line title. Required unless given in fields.summary."))
                .param(FieldSpec::string("description").describe("Description in plain text or Markdown (headings, lists, code blocks, bold, italic, links)."))
                .param(FieldSpec::json("fields").describe("More Jira fields by id, e.g. {\"labels\": [\"backend\"], \"priority\": {\"name\": \"High\"}}. A string description here is converted from Markdown too."))
                .idempotency_key()
                .outputs(["id", "key", "url"])
                .mock_payload("default", json!({"id": "10121", "key": "ENG-121", "url": "https://your-site.atlassian.net/browse/ENG-121"}))
                .mock_error("invalid_project", ConnectorError::invalid_input("Jira rejected the request (400): project: valid project is required. Change the named fields and call again.").with_vendor_code("400:project")),
            create_issue,
        )
        .command(
            CommandSpec::new("update_issue", Access::Write, "Change fields of an existing issue: summary, description (plain text or Markdown), or any Jira field by id in fields. Only the given fields change. To change status use transition_issue.")
                .param(FieldSpec::string("issueKey").required().describe("Issue key like ENG-42."))
                .param(FieldSpec::string("summary").describe("New one-line title."))
                .param(FieldSpec::string("description").describe("New description in plain text or Markdown; replaces the old one."))
                .param(FieldSpec::json("fields").describe("Other fields to set, e.g. {\"labels\": [\"urgent\"]}."))
                .idempotency_key()
                .idempotent()
                .outputs(["key", "updated"])
                .mock_payload("default", json!({"key": "ENG-1", "updated": ["summary"]})),
            update_issue,
        )
        .command(
            CommandSpec::new("add_comment", Access::Write, "Add a comment to an issue; the text may be plain or Markdown. Pass idempotencyKey so a retry does not comment twice.")
                .param(FieldSpec::string("issueKey").required().describe("Issue key like ENG-42."))
                .param(FieldSpec::string("body").required().describe("Comment text, plain or Markdown."))
                .idempotency_key()
                .outputs(["id", "created"])
                .mock_payload("default", json!({"id": "20001", "issueKey": "ENG-1", "author": "Agent Smith", "created": "2026-11-21T12:00:00.000+0000"})),
            add_comment,
        )
        .command(
            CommandSpec::new("list_transitions", Access::Read, "The workflow moves available for an issue right now (id, name, target status). Pass one's id or name to transition_issue.")
                .param(FieldSpec::string("issueKey").required().describe("Issue key like ENG-42."))
                .outputs(["items"])
                .mock_payload("default", json!({"items": [{"id": "21", "name": "In Progress", "to": "In Progress"}, {"id": "31", "name": "Done", "to": "Done"}]})),
            list_transitions,
        )
        .command(
            CommandSpec::new("transition_issue", Access::Write, "Move an issue to another status with one of its transitions, given by id (e.g. 31) or name (e.g. Done); see list_transitions.")
                .param(FieldSpec::string("issueKey").required().describe("Issue key like ENG-42."))
                .param(FieldSpec::string("transition").required().describe("Transition id or name, e.g. 31 or Done."))
                .idempotency_key()
                .outputs(["key", "status"])
                .mock_payload("default", json!({"key": "ENG-1", "transitionId": "31", "status": "Done"})),
            transition_issue,
        )
        .build()
}

fn str_of(v: &Value) -> Value {
    v.as_str().map_or(Value::Null, |s| json!(s))
}

/// Jira's nested issue shape, flattened to what an agent reads; fields outside the
/// usual set (custom fields, due date) are kept under their own ids.
fn flatten_issue(raw: &Value, site: Option<&str>) -> Value {
    let f = &raw["fields"];
    let key = raw["key"].as_str().unwrap_or_default();
    let mut out = Map::new();
    out.insert("id".into(), str_of(&raw["id"]));
    out.insert("key".into(), json!(key));
    if let Some(site) = site {
        out.insert("url".into(), json!(format!("{site}/browse/{key}")));
    }
    let Some(fields) = f.as_object() else {
        return Value::Object(out);
    };
    for (name, value) in fields {
        match name.as_str() {
            "summary" | "created" | "updated" | "labels" | "duedate" => {
                out.insert(name.clone(), value.clone());
            }
            "status" => {
                out.insert("status".into(), str_of(&value["name"]));
                out.insert(
                    "statusCategory".into(),
                    str_of(&value["statusCategory"]["key"]),
                );
            }
            "issuetype" => {
                out.insert("issueType".into(), str_of(&value["name"]));
            }
            "priority" => {
                out.insert("priority".into(), str_of(&value["name"]));
            }
            "assignee" | "reporter" => {
                out.insert(name.clone(), str_of(&value["displayName"]));
                out.insert(format!("{name}AccountId"), str_of(&value["accountId"]));
            }
            "project" => {
                out.insert("project".into(), str_of(&value["key"]));
            }
            "description" => {
                out.insert(
                    "description".into(),
                    if value.is_null() {
                        Value::Null
                    } else {
                        json!(adf::adf_to_text(value))
                    },
                );
            }
            "comment" => {
                let comments: Vec<Value> = value["comments"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .map(|c| json!({"id": c["id"], "author": c["author"]["displayName"],
                                             "created": c["created"], "body": adf::adf_to_text(&c["body"])}))
                            .collect()
                    })
                    .unwrap_or_default();
                out.insert("comments".into(), Value::Array(comments));
            }
            _ => {
                out.insert(name.clone(), value.clone());
            }
        }
    }
    Value::Object(out)
}

/// Jira field ids to request for a projection given in flattened names.
fn jira_fields_for(projection: &[String]) -> Vec<String> {
    let mut out: Vec<String> = SEARCH_FIELDS.iter().map(|s| s.to_string()).collect();
    for p in projection {
        let top = p.split('.').next().unwrap_or_default();
        let id = match top {
            "issueType" => "issuetype",
            "statusCategory" => "status",
            "assigneeAccountId" => "assignee",
            "reporterAccountId" => "reporter",
            "comments" => "comment",
            "id" | "key" | "url" | "" => continue,
            other => other,
        };
        if !out.iter().any(|o| o == id) {
            out.push(id.to_string());
        }
    }
    out
}

async fn myself(
    call: &Call,
) -> Result<
    (
        Value,
        Option<switchboard_contract::envelope::RateLimit>,
        &'static str,
    ),
    Box<switchboard_contract::Failure>,
> {
    let c = Client::from_call(call, "jira", VENDOR)?;
    let resp = c
        .send(call, c.request(Method::GET, "/rest/api/3/myself"))
        .await?;
    Ok((resp.json_value(), resp.rate_limit.clone(), c.auth_mode()))
}

async fn health(call: Call) -> Outcome {
    let (me, rate_limit, mode) = myself(&call).await?;
    Ok(Success::new(json!({"ok": true, "user": me["displayName"], "accountId": me["accountId"], "authMode": mode}))
        .rate_limit(rate_limit))
}

async fn whoami(call: Call) -> Outcome {
    let (me, rate_limit, _) = myself(&call).await?;
    Ok(Success::new(
        json!({"accountId": me["accountId"], "displayName": me["displayName"],
        "emailAddress": me["emailAddress"], "timeZone": me["timeZone"], "active": me["active"]}),
    )
    .variable("accountId", me["accountId"].clone())
    .rate_limit(rate_limit))
}

async fn list_projects(call: Call) -> Outcome {
    let c = Client::from_call(&call, "jira", VENDOR)?;
    let start = call
        .cursor
        .as_ref()
        .and_then(|s| s["startAt"].as_u64())
        .unwrap_or(0);
    let limit = call.limit(50, 100);
    let mut query = vec![
        ("startAt".to_string(), start.to_string()),
        ("maxResults".to_string(), limit.to_string()),
    ];
    if let Some(q) = call.str_param("query") {
        query.push(("query".into(), q.to_string()));
    }
    let qs = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(query)
        .finish();
    let resp = c
        .send(
            &call,
            c.request(Method::GET, &format!("/rest/api/3/project/search?{qs}")),
        )
        .await?;
    let body = resp.json_value();
    let values = body["values"].as_array().cloned().unwrap_or_default();
    let items: Vec<Value> = values
        .iter()
        .map(|p| json!({"id": p["id"], "key": p["key"], "name": p["name"], "projectType": p["projectTypeKey"]}))
        .collect();
    let next = start + values.len() as u64;
    let more = body["isLast"] == json!(false) && !values.is_empty();
    Ok(
        Success::new(json!({"items": items, "total": body["total"]}))
            .next_page(more.then(|| json!({"startAt": next})))
            .rate_limit(resp.rate_limit.clone()),
    )
}

fn issue_key(call: &Call) -> Result<String, ConnectorError> {
    let key = call
        .str_param("issueKey")
        .map(str::trim)
        .unwrap_or_default();
    if key.is_empty() || key.contains('/') {
        return Err(ConnectorError::invalid_input(format!(
            "issueKey '{key}' is not an issue key; give one like ENG-42 or a numeric id"
        )));
    }
    Ok(key.to_string())
}

async fn get_issue(call: Call) -> Outcome {
    let c = Client::from_call(&call, "jira", VENDOR)?;
    let key = issue_key(&call)?;
    let mut fields = jira_fields_for(&call.fields());
    for extra in ["description", "comment", "duedate"] {
        if !fields.iter().any(|f| f == extra) {
            fields.push(extra.into());
        }
    }
    let path = format!(
        "/rest/api/3/issue/{}?fields={}",
        segment(&key),
        fields.join(",")
    );
    let resp = c.send(&call, c.request(Method::GET, &path)).await?;
    let issue = flatten_issue(&resp.json_value(), c.site.as_deref());
    let key = issue["key"].clone();
    Ok(Success::new(issue)
        .variable("issueKey", key)
        .rate_limit(resp.rate_limit.clone()))
}

async fn search_issues(call: Call) -> Outcome {
    let c = Client::from_call(&call, "jira", VENDOR)?;
    let jql = call.str_param("jql").unwrap_or_default().trim().to_string();
    if jql.is_empty() {
        return fail(ConnectorError::invalid_input(
            "jql is empty; give a query such as project = ENG ORDER BY created DESC",
        ));
    }
    let token = match &call.cursor {
        Some(state) => {
            if state["jql"].as_str() != Some(jql.as_str()) {
                return fail(ConnectorError::invalid_input("this cursor belongs to a different jql; pass the same jql as the first page, or drop the cursor to start over"));
            }
            state["token"].as_str().map(str::to_string)
        }
        None => None,
    };
    let limit = call.limit(50, 100);
    let mut body =
        json!({"jql": jql, "maxResults": limit, "fields": jira_fields_for(&call.fields())});
    if let Some(t) = &token {
        body["nextPageToken"] = json!(t);
    }
    // A search is a read sent as POST: safe to retry.
    let req = c
        .request(Method::POST, "/rest/api/3/search/jql")
        .json(body)
        .idempotent(true);
    let resp = c
        .send_as(&call, req, Some("Fix the JQL and call again."))
        .await?;
    let page = resp.json_value();
    let site = c.site.as_deref();
    let items: Vec<Value> = page["issues"]
        .as_array()
        .map(|a| a.iter().map(|i| flatten_issue(i, site)).collect())
        .unwrap_or_default();
    let next = page["nextPageToken"]
        .as_str()
        .filter(|_| page["isLast"] != json!(true));
    let count = items.len();
    Ok(Success::new(json!({"items": items}))
        .variable("issueCount", count)
        .next_page(next.map(|t| json!({"token": t, "jql": jql})))
        .rate_limit(resp.rate_limit.clone()))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WriteParams {
    project_key: Option<String>,
    issue_type: Option<String>,
    summary: Option<String>,
    description: Option<String>,
    fields: Option<Value>,
}

/// The `fields` object of a create or edit: the given extra fields, then the named
/// params on top; string descriptions become ADF.
fn build_fields(p: &WriteParams) -> Result<Map<String, Value>, ConnectorError> {
    let mut fields = match &p.fields {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(m)) => m.clone(),
        Some(_) => return Err(ConnectorError::invalid_input("fields must be an object of Jira field ids to values, e.g. {\"labels\": [\"backend\"]}")),
    };
    if let Some(s) = &p.summary {
        fields.insert("summary".into(), json!(s));
    }
    if let Some(d) = &p.description {
        fields.insert("description".into(), json!(d));
    }
    if let Some(Value::String(text)) = fields.get("description") {
        let doc = adf::markdown_to_adf(text);
        fields.insert("description".into(), doc);
    }
    Ok(fields)
}

async fn create_issue(call: Call) -> Outcome {
    let c = Client::from_call(&call, "jira", VENDOR)?;
    let p: WriteParams = call.params_as()?;
    let mut fields = build_fields(&p)?;
    let project = p.project_key.as_deref().map(str::trim).unwrap_or_default();
    let issue_type = p.issue_type.as_deref().map(str::trim).unwrap_or_default();
    if project.is_empty() || issue_type.is_empty() {
        return fail(ConnectorError::invalid_input(
            "projectKey and issueType are required, e.g. projectKey ENG and issueType Task",
        ));
    }
    if fields
        .get("summary")
        .and_then(Value::as_str)
        .is_none_or(|s| s.trim().is_empty())
    {
        return fail(ConnectorError::invalid_input(
            "summary is required: pass summary (or fields.summary) with a one-line title",
        ));
    }
    fields.insert("project".into(), json!({"key": project}));
    fields.insert("issuetype".into(), json!({"name": issue_type}));
    let resp = c
        .send(
            &call,
            c.request(Method::POST, "/rest/api/3/issue")
                .json(json!({"fields": fields})),
        )
        .await?;
    let created = resp.json_value();
    let key = created["key"].as_str().unwrap_or_default().to_string();
    let mut out = json!({"id": created["id"], "key": key});
    if let Some(site) = &c.site {
        out["url"] = json!(format!("{site}/browse/{key}"));
    }
    Ok(Success::new(out)
        .variable("issueKey", key)
        .rate_limit(resp.rate_limit.clone()))
}

async fn update_issue(call: Call) -> Outcome {
    let c = Client::from_call(&call, "jira", VENDOR)?;
    let key = issue_key(&call)?;
    let p: WriteParams = call.params_as()?;
    let fields = build_fields(&p)?;
    if fields.is_empty() {
        return fail(ConnectorError::invalid_input(
            "nothing to update: give summary, description or fields",
        ));
    }
    let names: Vec<String> = fields.keys().cloned().collect();
    let path = format!("/rest/api/3/issue/{}", segment(&key));
    let resp = c
        .send(
            &call,
            c.request(Method::PUT, &path)
                .json(json!({"fields": fields})),
        )
        .await?;
    Ok(Success::new(json!({"key": key, "updated": names})).rate_limit(resp.rate_limit.clone()))
}

async fn add_comment(call: Call) -> Outcome {
    let c = Client::from_call(&call, "jira", VENDOR)?;
    let key = issue_key(&call)?;
    let text = call.str_param("body").unwrap_or_default();
    if text.trim().is_empty() {
        return fail(ConnectorError::invalid_input(
            "body is empty; give the comment text",
        ));
    }
    let path = format!("/rest/api/3/issue/{}/comment", segment(&key));
    let resp = c
        .send(
            &call,
            c.request(Method::POST, &path)
                .json(json!({"body": adf::markdown_to_adf(text)})),
        )
        .await?;
    let made = resp.json_value();
    Ok(Success::new(json!({"id": made["id"], "issueKey": key, "author": made["author"]["displayName"], "created": made["created"]}))
        .variable("commentId", made["id"].clone())
        .rate_limit(resp.rate_limit.clone()))
}

async fn fetch_transitions(
    call: &Call,
    c: &Client,
    key: &str,
) -> Result<
    (
        Vec<Value>,
        Option<switchboard_contract::envelope::RateLimit>,
    ),
    Box<switchboard_contract::Failure>,
> {
    let path = format!("/rest/api/3/issue/{}/transitions", segment(key));
    let resp = c.send(call, c.request(Method::GET, &path)).await?;
    let items = resp.json_value()["transitions"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|t| json!({"id": t["id"], "name": t["name"], "to": t["to"]["name"]}))
                .collect()
        })
        .unwrap_or_default();
    Ok((items, resp.rate_limit.clone()))
}

async fn list_transitions(call: Call) -> Outcome {
    let c = Client::from_call(&call, "jira", VENDOR)?;
    let key = issue_key(&call)?;
    let (items, rate_limit) = fetch_transitions(&call, &c, &key).await?;
    Ok(Success::new(json!({"items": items})).rate_limit(rate_limit))
}

async fn transition_issue(call: Call) -> Outcome {
    let c = Client::from_call(&call, "jira", VENDOR)?;
    let key = issue_key(&call)?;
    let wanted = call
        .str_param("transition")
        .unwrap_or_default()
        .trim()
        .to_string();
    let (available, _) = fetch_transitions(&call, &c, &key).await?;
    let chosen = available.iter().find(|t| {
        t["id"].as_str() == Some(wanted.as_str())
            || t["name"]
                .as_str()
                .is_some_and(|n| n.eq_ignore_ascii_case(&wanted))
            || t["to"]
                .as_str()
                .is_some_and(|n| n.eq_ignore_ascii_case(&wanted))
    });
    let Some(chosen) = chosen else {
        let names: Vec<String> = available
            .iter()
            .map(|t| {
                format!(
                    "{} ({})",
                    t["name"].as_str().unwrap_or("?"),
                    t["id"].as_str().unwrap_or("?")
                )
            })
            .collect();
        return fail(ConnectorError::invalid_input(format!(
            "'{wanted}' is not an available transition for {key}; available: {}",
            names.join(", ")
        )));
    };
    let id = chosen["id"].as_str().unwrap_or_default().to_string();
    let path = format!("/rest/api/3/issue/{}/transitions", segment(&key));
    let resp = c
        .send(
            &call,
            c.request(Method::POST, &path)
                .json(json!({"transition": {"id": id}})),
        )
        .await?;
    Ok(
        Success::new(json!({"key": key, "transitionId": id, "status": chosen["to"]}))
            .rate_limit(resp.rate_limit.clone()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flattening_keeps_custom_fields_and_reads_adf() {
        let raw = json!({"id": "1", "key": "ENG-1", "fields": {
            "summary": "s", "status": {"name": "Done", "statusCategory": {"key": "done"}},
            "assignee": null, "customfield_10010": 5,
            "description": adf::markdown_to_adf("Hello **there**")}});
        let flat = flatten_issue(&raw, Some("https://x.atlassian.net"));
        assert_eq!(flat["url"], "https://x.atlassian.net/browse/ENG-1");
        assert_eq!(flat["status"], "Done");
        assert_eq!(flat["assignee"], Value::Null);
        assert_eq!(flat["customfield_10010"], 5);
        assert_eq!(flat["description"], "Hello there");
    }

    #[test]
    fn projection_names_map_to_jira_field_ids() {
        let f = jira_fields_for(&["issueType".into(), "customfield_10010".into(), "key".into()]);
        assert!(f.contains(&"issuetype".to_string()));
        assert!(f.contains(&"customfield_10010".to_string()));
        assert!(!f.contains(&"key".to_string()));
    }
}
