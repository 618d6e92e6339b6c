//! Salesforce REST API, as documented at
//! <https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/>:
//! `limits`, `sobjects` (list, describe, get, create, update), SOQL `query` paged with
//! `nextRecordsUrl` (batch size from `Sforce-Query-Options`), and OAuth `userinfo`.
//! Errors are arrays of `{"message", "errorCode", "fields"}`; every answer carries
//! `Sforce-Limit-Info: api-usage=N/M`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::{credential, json_response, lock, Credential, Server, SharedControl};

pub const ACCESS_TOKEN: &str = "00Dxx0000000001!AQ4AQFakeSessionToken";
pub const API_VERSION: &str = "v60.0";
/// Accounts seeded (Contacts: 10).
pub const ACCOUNTS: usize = 450;

struct Object {
    label: &'static str,
    prefix: &'static str,
    /// (name, type, required on create)
    fields: Vec<(&'static str, &'static str, bool)>,
    records: Vec<Map<String, Value>>,
}

type Locator = (Vec<Map<String, Value>>, usize, usize);

struct Data {
    objects: HashMap<&'static str, Object>,
    /// Query locators: the remaining result set, where the next batch starts, batch size.
    cursors: HashMap<String, Locator>,
    next_locator: u64,
    /// A `nextRecordsUrl` to send instead of the real one (a hostile answer).
    next_url_override: Option<String>,
}

#[derive(Clone)]
struct Sim {
    data: Arc<Mutex<Data>>,
}

/// A running Salesforce simulator.
pub struct SalesforceSim {
    pub server: Server,
    data: Arc<Mutex<Data>>,
}

impl std::ops::Deref for SalesforceSim {
    type Target = Server;
    fn deref(&self) -> &Server {
        &self.server
    }
}

fn seed() -> Data {
    let mut objects = HashMap::new();
    let industries = ["Technology", "Energy", "Retail", "Banking"];
    let accounts = (1..=ACCOUNTS)
        .map(|i| {
            let mut r = Map::new();
            r.insert("Id".into(), json!(format!("001{i:015}")));
            r.insert("Name".into(), json!(format!("Account {i:03}")));
            r.insert("Industry".into(), json!(industries[i % 4]));
            r.insert(
                "BillingCity".into(),
                json!(["Berlin", "Austin", "Paris"][i % 3]),
            );
            r
        })
        .collect();
    objects.insert(
        "Account",
        Object {
            label: "Account",
            prefix: "001",
            fields: vec![
                ("Id", "id", false),
                ("Name", "string", true),
                ("Industry", "picklist", false),
                ("BillingCity", "string", false),
            ],
            records: accounts,
        },
    );
    let contacts = (1..=10)
        .map(|i| {
            let mut r = Map::new();
            r.insert("Id".into(), json!(format!("003{i:015}")));
            r.insert("LastName".into(), json!(format!("Contact{i}")));
            r.insert("Email".into(), json!(format!("c{i}@example.com")));
            r
        })
        .collect();
    objects.insert(
        "Contact",
        Object {
            label: "Contact",
            prefix: "003",
            fields: vec![
                ("Id", "id", false),
                ("LastName", "string", true),
                ("Email", "email", false),
            ],
            records: contacts,
        },
    );
    Data {
        objects,
        cursors: HashMap::new(),
        next_locator: 1,
        next_url_override: None,
    }
}

impl SalesforceSim {
    pub async fn start() -> SalesforceSim {
        let control = SharedControl::default();
        let sim = Sim {
            data: Arc::new(Mutex::new(seed())),
        };
        let v = format!("/services/data/{API_VERSION}");
        let router = Router::new()
            .route("/services/oauth2/userinfo", get(userinfo))
            .route(&format!("{v}/limits"), get(limits))
            .route(&format!("{v}/sobjects"), get(list_objects))
            .route(&format!("{v}/sobjects/{{object}}/describe"), get(describe))
            .route(
                &format!("{v}/sobjects/{{object}}"),
                axum::routing::post(create),
            )
            .route(
                &format!("{v}/sobjects/{{object}}/{{id}}"),
                get(get_record).patch(update),
            )
            .route(&format!("{v}/query"), get(query))
            .route(&format!("{v}/query/{{locator}}"), get(query_more))
            .with_state(sim.clone())
            .layer(axum::middleware::from_fn_with_state(
                control.clone(),
                crate::control_layer,
            ));
        SalesforceSim {
            server: Server::spawn(router, control).await,
            data: sim.data,
        }
    }

    pub fn record_count(&self, object: &str) -> usize {
        lock(&self.data)
            .objects
            .get(object)
            .map_or(0, |o| o.records.len())
    }

    pub fn record(&self, object: &str, id: &str) -> Option<Map<String, Value>> {
        lock(&self.data)
            .objects
            .get(object)?
            .records
            .iter()
            .find(|r| r["Id"] == json!(id))
            .cloned()
    }

    /// Every `nextRecordsUrl` is `url` from now on.
    pub fn set_next_url_override(&self, url: Option<&str>) {
        lock(&self.data).next_url_override = url.map(str::to_string);
    }

    /// The org's daily API limit is used up.
    pub fn inject_request_limit(&self) {
        self.inject(
            403,
            &[
                ("content-type", "application/json"),
                ("sforce-limit-info", "api-usage=15000/15000"),
            ],
            r#"[{"message":"TotalRequests Limit exceeded.","errorCode":"REQUEST_LIMIT_EXCEEDED"}]"#,
        );
    }
}

fn limit_header() -> Vec<(&'static str, String)> {
    vec![("sforce-limit-info", "api-usage=25/15000".into())]
}

fn ok(status: u16, body: Value) -> Response {
    json_response(status, body, &limit_header())
}

fn sf_error(status: u16, code: &str, message: &str, fields: &[&str]) -> Response {
    let mut e = json!({"message": message, "errorCode": code});
    if !fields.is_empty() {
        e["fields"] = json!(fields);
    }
    json_response(status, json!([e]), &limit_header())
}

fn unauthorized(headers: &HeaderMap) -> Option<Response> {
    match credential(headers) {
        Some(Credential::Bearer(t)) if t == ACCESS_TOKEN => None,
        _ => Some(json_response(
            401,
            json!([{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]),
            &[],
        )),
    }
}

fn not_found() -> Response {
    sf_error(
        404,
        "NOT_FOUND",
        "The requested resource does not exist",
        &[],
    )
}

async fn userinfo(headers: HeaderMap) -> Response {
    if let Some(r) = unauthorized(&headers) {
        return r;
    }
    ok(
        200,
        json!({"user_id": "005xx000001Sv6AAAS", "organization_id": "00Dxx0000000001EAA",
               "preferred_username": "agent@acme.example", "name": "Agent Smith",
               "email": "agent@acme.example"}),
    )
}

async fn limits(headers: HeaderMap) -> Response {
    if let Some(r) = unauthorized(&headers) {
        return r;
    }
    ok(
        200,
        json!({"DailyApiRequests": {"Max": 15000, "Remaining": 14975}}),
    )
}

async fn list_objects(State(sim): State<Sim>, headers: HeaderMap) -> Response {
    if let Some(r) = unauthorized(&headers) {
        return r;
    }
    let data = lock(&sim.data);
    let mut names: Vec<&&str> = data.objects.keys().collect();
    names.sort();
    let sobjects: Vec<Value> = names
        .iter()
        .map(|n| {
            let o = &data.objects[**n];
            json!({"name": n, "label": o.label, "keyPrefix": o.prefix, "custom": false,
                   "queryable": true, "createable": true, "updateable": true})
        })
        .collect();
    ok(
        200,
        json!({"encoding": "UTF-8", "maxBatchSize": 200, "sobjects": sobjects}),
    )
}

fn unknown_object(name: &str) -> Response {
    sf_error(
        404,
        "NOT_FOUND",
        &format!("The requested resource does not exist: sObject type '{name}' is not supported."),
        &[],
    )
}

async fn describe(
    State(sim): State<Sim>,
    headers: HeaderMap,
    Path(object): Path<String>,
) -> Response {
    if let Some(r) = unauthorized(&headers) {
        return r;
    }
    let data = lock(&sim.data);
    let Some(o) = data.objects.get(object.as_str()) else {
        return unknown_object(&object);
    };
    let fields: Vec<Value> = o
        .fields
        .iter()
        .map(|(n, t, req)| {
            json!({"name": n, "label": n, "type": t, "nillable": !req,
                                   "createable": *n != "Id", "updateable": *n != "Id"})
        })
        .collect();
    ok(
        200,
        json!({"name": object, "label": o.label, "keyPrefix": o.prefix, "fields": fields}),
    )
}

#[derive(Deserialize)]
struct FieldsQuery {
    fields: Option<String>,
}

fn with_attributes(object: &str, r: &Map<String, Value>, only: Option<&[String]>) -> Value {
    let id = r["Id"].as_str().unwrap_or_default();
    let mut out = Map::new();
    out.insert(
        "attributes".into(),
        json!({"type": object, "url": format!("/services/data/{API_VERSION}/sobjects/{object}/{id}")}),
    );
    for (k, v) in r {
        if only.is_none_or(|o| o.iter().any(|f| f.eq_ignore_ascii_case(k))) {
            out.insert(k.clone(), v.clone());
        }
    }
    Value::Object(out)
}

async fn get_record(
    State(sim): State<Sim>,
    headers: HeaderMap,
    Path((object, id)): Path<(String, String)>,
    Query(q): Query<FieldsQuery>,
) -> Response {
    if let Some(r) = unauthorized(&headers) {
        return r;
    }
    let data = lock(&sim.data);
    let Some(o) = data.objects.get(object.as_str()) else {
        return unknown_object(&object);
    };
    let only: Option<Vec<String>> = q
        .fields
        .map(|f| f.split(',').map(|s| s.trim().to_string()).collect());
    if let Some(bad) = only
        .iter()
        .flatten()
        .find(|f| !o.fields.iter().any(|(n, _, _)| n.eq_ignore_ascii_case(f)))
    {
        return sf_error(
            400,
            "INVALID_FIELD",
            &format!("No such column '{bad}' on entity '{object}'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name."),
            &[],
        );
    }
    match o.records.iter().find(|r| r["Id"] == json!(id)) {
        Some(r) => ok(200, with_attributes(&object, r, only.as_deref())),
        None => not_found(),
    }
}

/// Field checks on create and update: unknown fields, and required ones on create.
fn check_fields(
    object: &str,
    o: &Object,
    body: &Map<String, Value>,
    creating: bool,
) -> Option<Response> {
    for k in body.keys() {
        if k == "Id" || !o.fields.iter().any(|(n, _, _)| n == k) {
            return Some(sf_error(
                400,
                "INVALID_FIELD",
                &format!("No such column '{k}' on sobject of type {object}"),
                &[],
            ));
        }
    }
    if creating {
        let missing: Vec<&str> = o
            .fields
            .iter()
            .filter(|(n, _, req)| *req && body.get(*n).is_none_or(Value::is_null))
            .map(|(n, _, _)| *n)
            .collect();
        if !missing.is_empty() {
            return Some(sf_error(
                400,
                "REQUIRED_FIELD_MISSING",
                &format!("Required fields are missing: [{}]", missing.join(", ")),
                &missing,
            ));
        }
    }
    None
}

async fn create(
    State(sim): State<Sim>,
    headers: HeaderMap,
    Path(object): Path<String>,
    body: Result<Json<Map<String, Value>>, axum::extract::rejection::JsonRejection>,
) -> Response {
    if let Some(r) = unauthorized(&headers) {
        return r;
    }
    let Ok(Json(body)) = body else {
        return sf_error(
            400,
            "JSON_PARSER_ERROR",
            "Unexpected character: was expecting a JSON object",
            &[],
        );
    };
    let mut data = lock(&sim.data);
    let Some(o) = data.objects.get_mut(object.as_str()) else {
        return unknown_object(&object);
    };
    if let Some(r) = check_fields(&object, o, &body, true) {
        return r;
    }
    let id = format!("{}{:015}", o.prefix, 900_000 + o.records.len());
    let mut record = body;
    record.insert("Id".into(), json!(id));
    o.records.push(record);
    ok(201, json!({"id": id, "success": true, "errors": []}))
}

async fn update(
    State(sim): State<Sim>,
    headers: HeaderMap,
    Path((object, id)): Path<(String, String)>,
    body: Result<Json<Map<String, Value>>, axum::extract::rejection::JsonRejection>,
) -> Response {
    if let Some(r) = unauthorized(&headers) {
        return r;
    }
    let Ok(Json(body)) = body else {
        return sf_error(
            400,
            "JSON_PARSER_ERROR",
            "Unexpected character: was expecting a JSON object",
            &[],
        );
    };
    let mut data = lock(&sim.data);
    let Some(o) = data.objects.get_mut(object.as_str()) else {
        return unknown_object(&object);
    };
    if let Some(r) = check_fields(&object, o, &body, false) {
        return r;
    }
    let Some(record) = o.records.iter_mut().find(|r| r["Id"] == json!(id)) else {
        return not_found();
    };
    for (k, v) in body {
        record.insert(k, v);
    }
    let mut r = axum::http::StatusCode::NO_CONTENT.into_response();
    if let Ok(v) = axum::http::HeaderValue::from_str("api-usage=26/15000") {
        r.headers_mut().insert("sforce-limit-info", v);
    }
    r
}

#[derive(Deserialize)]
struct Soql {
    q: Option<String>,
}

struct ParsedQuery {
    fields: Vec<String>,
    object: String,
    wheres: Vec<(String, String)>,
    limit: Option<usize>,
}

fn malformed(msg: &str) -> String {
    msg.to_string()
}

/// `SELECT a, b FROM Obj [WHERE f = 'v' [AND …]] [LIMIT n]`; errors as Salesforce words them.
fn parse_soql(q: &str) -> Result<ParsedQuery, (String, String)> {
    let tokens: Vec<&str> = q.split_whitespace().collect();
    let upper = |i: usize| tokens.get(i).map(|t| t.to_ascii_uppercase());
    if upper(0).as_deref() != Some("SELECT") {
        return Err((
            "MALFORMED_QUERY".into(),
            malformed(&format!(
                "unexpected token: '{}'",
                tokens.first().unwrap_or(&"")
            )),
        ));
    }
    let from = tokens
        .iter()
        .position(|t| t.eq_ignore_ascii_case("FROM"))
        .ok_or_else(|| {
            (
                "MALFORMED_QUERY".to_string(),
                "unexpected token: <EOF>".to_string(),
            )
        })?;
    let fields: Vec<String> = tokens[1..from]
        .join(" ")
        .split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    if fields.is_empty() {
        return Err(("MALFORMED_QUERY".into(), "unexpected token: 'FROM'".into()));
    }
    let object = tokens
        .get(from + 1)
        .ok_or_else(|| {
            (
                "MALFORMED_QUERY".to_string(),
                "unexpected token: <EOF>".to_string(),
            )
        })?
        .to_string();
    let mut i = from + 2;
    let mut wheres = Vec::new();
    let mut limit = None;
    while i < tokens.len() {
        match upper(i).as_deref() {
            Some("WHERE") | Some("AND") => {
                let (f, op, v) = (tokens.get(i + 1), tokens.get(i + 2), tokens.get(i + 3));
                match (f, op, v) {
                    (Some(f), Some(&"="), Some(v))
                        if v.starts_with('\'') && v.ends_with('\'') && v.len() >= 2 =>
                    {
                        wheres.push((f.to_string(), v.trim_matches('\'').to_string()));
                        i += 4;
                    }
                    _ => {
                        return Err((
                            "MALFORMED_QUERY".into(),
                            format!(
                                "unexpected token: '{}'",
                                tokens.get(i + 2).or(tokens.get(i + 1)).unwrap_or(&"<EOF>")
                            ),
                        ))
                    }
                }
            }
            Some("LIMIT") => {
                limit = Some(
                    tokens
                        .get(i + 1)
                        .and_then(|n| n.parse().ok())
                        .ok_or_else(|| {
                            (
                                "MALFORMED_QUERY".to_string(),
                                "unexpected token: LIMIT requires an integer".to_string(),
                            )
                        })?,
                );
                i += 2;
            }
            _ => {
                return Err((
                    "MALFORMED_QUERY".into(),
                    format!("unexpected token: '{}'", tokens[i]),
                ))
            }
        }
    }
    Ok(ParsedQuery {
        fields,
        object,
        wheres,
        limit,
    })
}

fn batch_size(headers: &HeaderMap) -> usize {
    headers
        .get("sforce-query-options")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.split(',')
                .find_map(|p| p.trim().strip_prefix("batchSize="))
        })
        .and_then(|n| n.parse().ok())
        .unwrap_or(2000usize)
        .clamp(200, 2000)
}

fn page(data: &mut Data, records: Vec<Map<String, Value>>, start: usize, batch: usize) -> Value {
    let total = records.len();
    let end = (start + batch).min(total);
    let rows: Vec<Value> = records[start..end]
        .iter()
        .map(|r| Value::Object(r.clone()))
        .collect();
    let mut out = json!({"totalSize": total, "done": end >= total, "records": rows});
    if end < total {
        let locator = format!("01gxx{:010}", data.next_locator);
        data.next_locator += 1;
        let url = data
            .next_url_override
            .clone()
            .unwrap_or_else(|| format!("/services/data/{API_VERSION}/query/{locator}-{end}"));
        data.cursors.insert(locator, (records, end, batch));
        out["nextRecordsUrl"] = json!(url);
    }
    out
}

async fn query(State(sim): State<Sim>, headers: HeaderMap, Query(q): Query<Soql>) -> Response {
    if let Some(r) = unauthorized(&headers) {
        return r;
    }
    let soql = q.q.unwrap_or_default();
    let parsed = match parse_soql(&soql) {
        Ok(p) => p,
        Err((code, msg)) => return sf_error(400, &code, &msg, &[]),
    };
    let mut data = lock(&sim.data);
    let Some(o) = data.objects.get(parsed.object.as_str()) else {
        return sf_error(
            400,
            "INVALID_TYPE",
            &format!("\n{soql}\n^\nERROR at Row:1:Column:1\nsObject type '{}' is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name.", parsed.object),
            &[],
        );
    };
    for f in parsed
        .fields
        .iter()
        .chain(parsed.wheres.iter().map(|(f, _)| f))
    {
        if !o.fields.iter().any(|(n, _, _)| n.eq_ignore_ascii_case(f)) {
            return sf_error(
                400,
                "INVALID_FIELD",
                &format!("\n{soql}\n^\nERROR at Row:1:Column:8\nNo such column '{f}' on entity '{}'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name.", parsed.object),
                &[],
            );
        }
    }
    let object = parsed.object.clone();
    let mut records: Vec<Map<String, Value>> = o
        .records
        .iter()
        .filter(|r| {
            parsed.wheres.iter().all(|(f, v)| {
                r.iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(f))
                    .is_some_and(|(_, val)| val.as_str() == Some(v.as_str()))
            })
        })
        .map(
            |r| match with_attributes(&object, r, Some(&parsed.fields)) {
                Value::Object(m) => m,
                _ => Map::new(),
            },
        )
        .collect();
    if let Some(l) = parsed.limit {
        records.truncate(l);
    }
    let batch = batch_size(&headers);
    let out = page(&mut data, records, 0, batch);
    ok(200, out)
}

async fn query_more(
    State(sim): State<Sim>,
    headers: HeaderMap,
    Path(locator): Path<String>,
) -> Response {
    if let Some(r) = unauthorized(&headers) {
        return r;
    }
    let mut data = lock(&sim.data);
    let key = locator.split('-').next().unwrap_or_default().to_string();
    let Some((records, start, batch)) = data.cursors.remove(&key) else {
        return sf_error(400, "INVALID_QUERY_LOCATOR", "invalid query locator", &[]);
    };
    let out = page(&mut data, records, start, batch);
    ok(200, out)
}
