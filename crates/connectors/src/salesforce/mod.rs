//! `salesforce`: the Salesforce REST API (version configurable). Objects and their
//! fields, records by id, SOQL queries paged with `nextRecordsUrl` (kept inside the
//! hub's signed cursor and followed only on the instance's own origin and data path),
//! creates and updates. Error arrays map to contract codes with the Salesforce
//! `errorCode` in `vendorCode`; `Sforce-Limit-Info` fills `meta.rateLimit`.

pub mod client;

use http::Method;
use serde_json::{json, Map, Value};
use switchboard_contract::{
    fail, Access, CommandSpec, ConnectorError, ErrorCode, FieldKind, FieldSpec, Outcome, Success,
};
use switchboard_runtime::{Call, Definition};

use client::Client;

pub fn definition() -> Definition {
    Definition::builder("salesforce", "1.0.0", "Salesforce CRM: list and describe objects, read records, query with SOQL, create and update records (Accounts, Contacts, Opportunities, custom objects).")
        .category("crm")
        .tags(&["salesforce", "crm", "sales", "soql"])
        .tool_prefix("salesforce")
        .docs_url("https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/")
        .scopes(&["api", "refresh_token"])
        .oauth("salesforce")
        .config(FieldSpec::string("instanceUrl").required().describe("Your org's instance URL, e.g. https://acme.my.salesforce.com."))
        .config(FieldSpec::secret("accessToken").describe("An OAuth access token (session id); filled by the hub's OAuth sign-in, or pasted (e.g. from `sf org display`)."))
        .config(FieldSpec::string("apiVersion").default_value(client::DEFAULT_VERSION).describe("REST API version, e.g. v60.0."))
        .config(FieldSpec::new("timeoutMs", FieldKind::integer_range(100, 120_000)).default_value(30_000).describe("Per-request timeout in milliseconds."))
        .command(
            CommandSpec::new("health", Access::Read, "Check Salesforce answers with the configured token; returns the API version and the org's daily API requests left.")
                .outputs(["ok", "apiVersion", "dailyApiRequests"])
                .mock_payload("default", json!({"ok": true, "apiVersion": "v60.0", "dailyApiRequests": {"max": 15000, "remaining": 14975}})),
            health,
        )
        .command(
            CommandSpec::new("whoami", Access::Read, "The Salesforce user the token belongs to: user id, org id, username, name, email.")
                .projection()
                .outputs(["userId", "organizationId", "username"])
                .mock_payload("default", json!({"userId": "005xx000001Sv6AAAS", "organizationId": "00Dxx0000000001EAA", "username": "agent@acme.example", "name": "Agent Smith", "email": "agent@acme.example"})),
            whoami,
        )
        .command(
            CommandSpec::new("list_objects", Access::Read, "List the org's objects (sObjects): API name, label, whether custom, queryable, createable. Use the API name in SOQL and the record commands.")
                .param(FieldSpec::string("query").describe("Only objects whose name or label contains this text."))
                .projection()
                .outputs(["items"])
                .mock_payload("default", json!({"items": [{"name": "Account", "label": "Account", "custom": false, "queryable": true, "createable": true}]})),
            list_objects,
        )
        .command(
            CommandSpec::new("describe_object", Access::Read, "The fields of one object: API name, label, type, whether required on create, updateable, picklist values. Read this before writing SOQL or creating records.")
                .param(FieldSpec::string("object").required().describe("Object API name, e.g. Account or Invoice__c."))
                .projection()
                .outputs(["name", "fields"])
                .mock_payload("default", json!({"name": "Account", "label": "Account", "fields": [{"name": "Name", "label": "Account Name", "type": "string", "required": true, "updateable": true}]}))
                .mock_error("not_found", ConnectorError::not_found("Salesforce rejected the request (NOT_FOUND): The requested resource does not exist.").with_vendor_code("NOT_FOUND")),
            describe_object,
        )
        .command(
            CommandSpec::new("get_record", Access::Read, "Get one record by object and id; fields picks which fields to fetch (default: all).")
                .param(FieldSpec::string("object").required().describe("Object API name, e.g. Account."))
                .param(FieldSpec::string("id").required().describe("Record id (15 or 18 characters)."))
                .projection()
                .outputs(["Id"])
                .mock_payload("default", json!({"Id": "001xx000003DGb2AAG", "Name": "Acme", "Industry": "Technology"})),
            get_record,
        )
        .command(
            CommandSpec::new("search_records", Access::Read, "Run a SOQL query, e.g. SELECT Id, Name FROM Account WHERE Industry = 'Energy'. Returns the records (without Salesforce's attributes) and totalSize. Pages hold at least 200 records (Salesforce's minimum batch; use LIMIT in the SOQL for fewer); pass nextCursor back as cursor for the next page.")
                .param(FieldSpec::string("soql").required().describe("The SOQL query."))
                .paginated()
                .projection()
                .outputs(["items", "totalSize"])
                .mock_payload("default", json!({"items": [{"Id": "001xx000003DGb2AAG", "Name": "Acme"}], "totalSize": 1}))
                .mock_error("malformed_query", ConnectorError::invalid_input("Salesforce rejected the request (MALFORMED_QUERY): unexpected token: 'FORM'. Fix the SOQL or field names (describe_object lists them) and call again.").with_vendor_code("MALFORMED_QUERY")),
            search_records,
        )
        .command(
            CommandSpec::new("create_record", Access::Write, "Create a record of an object from field values by API name, e.g. object Account, fields {\"Name\": \"Acme\", \"Industry\": \"Energy\"}. Returns the new id. Pass idempotencyKey so a retry does not create a duplicate.")
                .param(FieldSpec::string("object").required().describe("Object API name, e.g. Account."))
                .param(FieldSpec::json("fields").required().describe("Field values by API name."))
                .idempotency_key()
                .outputs(["id"])
                .mock_payload("default", json!({"id": "001xx000003DGb2AAG", "object": "Account"}))
                .mock_error("required_field_missing", ConnectorError::invalid_input("Salesforce rejected the request (REQUIRED_FIELD_MISSING): Required fields are missing: [Name] [fields: Name]. Change the named fields and call again.").with_vendor_code("REQUIRED_FIELD_MISSING")),
            create_record,
        )
        .command(
            CommandSpec::new("update_record", Access::Write, "Change fields of a record by object and id; only the given fields change.")
                .param(FieldSpec::string("object").required().describe("Object API name, e.g. Account."))
                .param(FieldSpec::string("id").required().describe("Record id."))
                .param(FieldSpec::json("fields").required().describe("Field values to set, by API name."))
                .idempotency_key()
                .idempotent()
                .outputs(["id", "updated"])
                .mock_payload("default", json!({"id": "001xx000003DGb2AAG", "object": "Account", "updated": ["Industry"]})),
            update_record,
        )
        .build()
}

fn object(call: &Call) -> Result<String, ConnectorError> {
    let o = call.str_param("object").unwrap_or_default().trim();
    let ok = o.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && o.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !ok {
        return Err(ConnectorError::invalid_input(format!(
            "object '{o}' is not an object API name; e.g. Account or Invoice__c (see list_objects)"
        )));
    }
    Ok(o.to_string())
}

fn record_id(call: &Call) -> Result<String, ConnectorError> {
    let id = call.str_param("id").unwrap_or_default().trim();
    if !(id.len() == 15 || id.len() == 18) || !id.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(ConnectorError::invalid_input(format!(
            "id '{id}' is not a Salesforce record id (15 or 18 letters and digits)"
        )));
    }
    Ok(id.to_string())
}

fn field_values(call: &Call) -> Result<Map<String, Value>, ConnectorError> {
    match call.params.get("fields") {
        Some(Value::Object(m)) if !m.is_empty() => Ok(m.clone()),
        _ => Err(ConnectorError::invalid_input("fields must be a non-empty object of field API names to values, e.g. {\"Name\": \"Acme\"}")),
    }
}

/// A record without Salesforce's `attributes` bookkeeping.
fn clean(record: &Value) -> Value {
    let mut r = record.clone();
    if let Some(m) = r.as_object_mut() {
        m.remove("attributes");
        for v in m.values_mut() {
            if v.get("attributes").is_some() {
                *v = clean(v);
            }
        }
    }
    r
}

async fn health(call: Call) -> Outcome {
    let c = Client::from_call(&call)?;
    let resp = c.send(&call, c.data(Method::GET, "/limits")).await?;
    let l = resp.json_value();
    Ok(Success::new(json!({"ok": true, "apiVersion": c.version,
        "dailyApiRequests": {"max": l["DailyApiRequests"]["Max"], "remaining": l["DailyApiRequests"]["Remaining"]}}))
        .rate_limit(resp.rate_limit.clone()))
}

async fn whoami(call: Call) -> Outcome {
    let c = Client::from_call(&call)?;
    let resp = c
        .send(&call, c.request(Method::GET, "/services/oauth2/userinfo"))
        .await?;
    let u = resp.json_value();
    Ok(Success::new(json!({"userId": u["user_id"], "organizationId": u["organization_id"], "username": u["preferred_username"], "name": u["name"], "email": u["email"]}))
        .variable("userId", u["user_id"].clone())
        .rate_limit(resp.rate_limit.clone()))
}

async fn list_objects(call: Call) -> Outcome {
    let c = Client::from_call(&call)?;
    let resp = c.send(&call, c.data(Method::GET, "/sobjects")).await?;
    let needle = call.str_param("query").unwrap_or_default().to_lowercase();
    let items: Vec<Value> = resp.json_value()["sobjects"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|o| needle.is_empty() || [&o["name"], &o["label"]].iter().any(|v| v.as_str().is_some_and(|s| s.to_lowercase().contains(&needle))))
                .map(|o| json!({"name": o["name"], "label": o["label"], "custom": o["custom"], "queryable": o["queryable"], "createable": o["createable"], "updateable": o["updateable"]}))
                .collect()
        })
        .unwrap_or_default();
    Ok(Success::new(json!({"items": items})).rate_limit(resp.rate_limit.clone()))
}

async fn describe_object(call: Call) -> Outcome {
    let c = Client::from_call(&call)?;
    let o = object(&call)?;
    let resp = c
        .send(
            &call,
            c.data(Method::GET, &format!("/sobjects/{o}/describe")),
        )
        .await?;
    let d = resp.json_value();
    let fields: Vec<Value> = d["fields"].as_array().map(|a| a.iter().map(|f| {
        let mut out = json!({"name": f["name"], "label": f["label"], "type": f["type"],
            "required": f["nillable"] == json!(false) && f["createable"] == json!(true), "updateable": f["updateable"]});
        if let Some(p) = f["picklistValues"].as_array().filter(|p| !p.is_empty()) {
            out["picklistValues"] = json!(p.iter().map(|v| v["value"].clone()).collect::<Vec<_>>());
        }
        out
    }).collect()).unwrap_or_default();
    Ok(
        Success::new(json!({"name": d["name"], "label": d["label"], "fields": fields}))
            .rate_limit(resp.rate_limit.clone()),
    )
}

async fn get_record(call: Call) -> Outcome {
    let c = Client::from_call(&call)?;
    let (o, id) = (object(&call)?, record_id(&call)?);
    // A nested projection (`Owner.Name`) needs its top-level field.
    let wanted: Vec<String> = call
        .fields()
        .iter()
        .map(|s| s.split('.').next().unwrap_or(s).to_string())
        .collect();
    let mut path = format!("/sobjects/{o}/{id}");
    if !wanted.is_empty() {
        if let Some(bad) = wanted
            .iter()
            .find(|f| !f.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        {
            return fail(ConnectorError::invalid_input(format!(
                "'{bad}' is not a field API name"
            )));
        }
        path.push_str(&format!("?fields={}", wanted.join(",")));
    }
    let resp = c.send(&call, c.data(Method::GET, &path)).await?;
    Ok(Success::new(clean(&resp.json_value())).rate_limit(resp.rate_limit.clone()))
}

async fn search_records(call: Call) -> Outcome {
    let c = Client::from_call(&call)?;
    let batch = call.limit(2000, 2000).clamp(200, 2000);
    let req = match call.cursor.as_ref().and_then(|s| s["next"].as_str()) {
        Some(next) => c.follow(next)?,
        None => {
            let soql = call
                .str_param("soql")
                .unwrap_or_default()
                .trim()
                .to_string();
            if soql.is_empty() {
                return fail(ConnectorError::invalid_input(
                    "soql is empty; e.g. SELECT Id, Name FROM Account LIMIT 10",
                ));
            }
            let qs = url::form_urlencoded::Serializer::new(String::new())
                .append_pair("q", &soql)
                .finish();
            c.data(Method::GET, &format!("/query?{qs}"))
        }
    };
    let req = req.header("Sforce-Query-Options", format!("batchSize={batch}"));
    let resp = c.send(&call, req).await?;
    let body = resp.json_value();
    let items: Vec<Value> = body["records"]
        .as_array()
        .map(|a| a.iter().map(clean).collect())
        .unwrap_or_default();
    let mut s = Success::new(json!({"items": items, "totalSize": body["totalSize"]}))
        .rate_limit(resp.rate_limit.clone());
    if let Some(next) = body["nextRecordsUrl"]
        .as_str()
        .filter(|_| body["done"] != json!(true))
    {
        if c.follow(next).is_ok() {
            s = s.next_page(Some(json!({"next": next})));
        } else {
            s = s.warn(
                "Salesforce sent a nextRecordsUrl outside this org's data API; it was not followed",
            );
        }
    }
    Ok(s)
}

async fn create_record(call: Call) -> Outcome {
    let c = Client::from_call(&call)?;
    let o = object(&call)?;
    let fields = field_values(&call)?;
    let resp = c
        .send(
            &call,
            c.data(Method::POST, &format!("/sobjects/{o}"))
                .json(Value::Object(fields)),
        )
        .await?;
    let made = resp.json_value();
    if made["success"] == json!(false) {
        return fail(ConnectorError::new(
            ErrorCode::UpstreamError,
            format!("Salesforce did not create the record: {}", made["errors"]),
        ));
    }
    Ok(Success::new(json!({"id": made["id"], "object": o}))
        .variable("recordId", made["id"].clone())
        .rate_limit(resp.rate_limit.clone()))
}

async fn update_record(call: Call) -> Outcome {
    let c = Client::from_call(&call)?;
    let (o, id) = (object(&call)?, record_id(&call)?);
    let fields = field_values(&call)?;
    let names: Vec<String> = fields.keys().cloned().collect();
    let resp = c
        .send(
            &call,
            c.data(Method::PATCH, &format!("/sobjects/{o}/{id}"))
                .json(Value::Object(fields)),
        )
        .await?;
    Ok(
        Success::new(json!({"id": id, "object": o, "updated": names}))
            .rate_limit(resp.rate_limit.clone()),
    )
}
