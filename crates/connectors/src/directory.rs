//! `directory`: a sample employee directory over data of its own, so a new user can
//! try the hub with nothing else running. Shows every part of the contract: paging
//! with signed cursors, projection, a validated write with an idempotency key,
//! mocks, variables, and a secret config field that never reaches the model.
//!
//! Employees created through `create` live in memory for the life of the process.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use switchboard_contract::{
    fail, Access, CommandSpec, ConnectorError, FieldKind, FieldSpec, Outcome, Success,
};
use switchboard_runtime::{Call, Definition};

const DEPARTMENTS: [&str; 5] = ["Engineering", "Sales", "Support", "Finance", "People"];

pub fn definition() -> Definition {
    Definition::builder("directory", "1.0.0", "Sample employee directory with 40 built-in employees: look people up, list and filter them, add new ones. Needs no external service.")
        .category("sample")
        .tags(&["sample", "hr", "directory"])
        .config(FieldSpec::string("company").default_value("Acme Corp").describe("Company name shown in results."))
        .config(FieldSpec::secret("apiKey").describe("Optional API key; shows how secrets are stored encrypted and never returned."))
        .command(
            CommandSpec::new("health", Access::Read, "Check the directory is reachable; returns the company and how many employees it holds.")
                .outputs(["company", "employees"])
                .mock_payload("default", json!({"company": "Acme Corp", "employees": 40})),
            health,
        )
        .command(
            CommandSpec::new("lookup", Access::Read, "Find one employee by id (e.g. E007) or by email. Give exactly one of the two.")
                .param(FieldSpec::string("id").describe("Employee id, e.g. E007."))
                .param(FieldSpec::string("email").describe("Work email address."))
                .projection()
                .outputs(["employee"])
                .mock_payload("default", json!({"id": "E001", "name": "Ada Lovelace", "email": "ada.lovelace@acme.example", "department": "Engineering", "title": "Engineer"}))
                .mock_error("not_found", ConnectorError::not_found("no employee matches")),
            lookup,
        )
        .command(
            CommandSpec::new("list", Access::Read, "List employees, optionally filtered by department or by a text query on name and title. Paged: pass nextCursor back as cursor for more.")
                .param(FieldSpec::new("department", FieldKind::select(DEPARTMENTS)).describe("Only this department."))
                .param(FieldSpec::string("query").describe("Case-insensitive text to find in name or title."))
                .paginated()
                .projection()
                .outputs(["items", "total"])
                .mock_payload("default", json!({"items": [{"id": "E001", "name": "Ada Lovelace"}], "total": 1}))
                .mock_payload("empty", json!({"items": [], "total": 0})),
            list,
        )
        .command(
            CommandSpec::new("create", Access::Write, "Add an employee. Email must be unique. Pass idempotencyKey so a retried call does not add the person twice.")
                .param(FieldSpec::string("name").required().describe("Full name."))
                .param(FieldSpec::string("email").required().describe("Work email; must be unique."))
                .param(FieldSpec::new("department", FieldKind::select(DEPARTMENTS)).required().describe("Department."))
                .param(FieldSpec::string("title").default_value("Employee").describe("Job title."))
                .idempotency_key()
                .outputs(["employee", "employeeId"])
                .mock_payload("default", json!({"id": "E041", "name": "New Person", "email": "new.person@acme.example", "department": "Sales", "title": "Employee"}))
                .mock_error("conflict", ConnectorError::conflict("an employee with this email already exists")),
            create,
        )
        .command(
            CommandSpec::new("echo", Access::Read, "Return the params, variables and config this call received (secrets masked). For checking what a connector sees.")
                .param(FieldSpec::json("message").describe("Anything to echo back."))
                .outputs(["params", "variables", "config"])
                .mock_payload("default", json!({"params": {}, "variables": {}, "config": {}})),
            echo,
        )
        .build()
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Employee {
    id: String,
    name: String,
    email: String,
    department: String,
    title: String,
    location: String,
}

const FIRST: [&str; 8] = [
    "Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Margaret", "Ken",
];
const LAST: [&str; 5] = ["Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov"];
const TITLES: [&str; 4] = ["Engineer", "Manager", "Analyst", "Specialist"];
const LOCATIONS: [&str; 3] = ["Berlin", "Austin", "Singapore"];

static SEED: LazyLock<Vec<Employee>> = LazyLock::new(|| {
    (0..40)
        .map(|i| {
            let (first, last) = (FIRST[i % FIRST.len()], LAST[i / FIRST.len()]);
            Employee {
                id: format!("E{:03}", i + 1),
                name: format!("{first} {last}"),
                email: format!(
                    "{}.{}@acme.example",
                    first.to_lowercase(),
                    last.to_lowercase()
                ),
                department: DEPARTMENTS[i % DEPARTMENTS.len()].to_string(),
                title: TITLES[i % TITLES.len()].to_string(),
                location: LOCATIONS[i % LOCATIONS.len()].to_string(),
            }
        })
        .collect()
});

/// Employees added per connector instance, so instances never see each other's.
static CREATED: LazyLock<Mutex<HashMap<String, Vec<Employee>>>> = LazyLock::new(Default::default);

fn all_employees(instance_id: &str) -> Vec<Employee> {
    let mut all = SEED.clone();
    if let Ok(created) = CREATED.lock() {
        all.extend(created.get(instance_id).cloned().unwrap_or_default());
    }
    all
}

fn company(call: &Call) -> String {
    call.config
        .get("company")
        .and_then(Value::as_str)
        .unwrap_or("Acme Corp")
        .to_string()
}

fn to_value(e: &Employee) -> Value {
    serde_json::to_value(e).unwrap_or(Value::Null)
}

async fn health(call: Call) -> Outcome {
    let count = all_employees(&call.instance.id).len();
    Ok(Success::new(
        json!({"company": company(&call), "employees": count}),
    ))
}

async fn lookup(call: Call) -> Outcome {
    let id = call.str_param("id");
    let email = call.str_param("email");
    let found = match (id, email) {
        (Some(id), None) => all_employees(&call.instance.id)
            .into_iter()
            .find(|e| e.id.eq_ignore_ascii_case(id)),
        (None, Some(email)) => all_employees(&call.instance.id)
            .into_iter()
            .find(|e| e.email.eq_ignore_ascii_case(email)),
        _ => {
            return fail(ConnectorError::invalid_input(
                "give exactly one of 'id' or 'email'",
            ))
        }
    };
    match found {
        Some(e) => Ok(Success::new(to_value(&e)).variable("employeeId", e.id.clone())),
        None => fail(ConnectorError::not_found(format!(
            "no employee with {}",
            id.map_or_else(
                || format!("email '{}'", email.unwrap_or_default()),
                |i| format!("id '{i}'")
            )
        ))),
    }
}

async fn list(call: Call) -> Outcome {
    let department = call.str_param("department");
    let query = call.str_param("query").map(str::to_lowercase);
    let matching: Vec<Employee> = all_employees(&call.instance.id)
        .into_iter()
        .filter(|e| department.is_none_or(|d| e.department == d))
        .filter(|e| {
            query.as_deref().is_none_or(|q| {
                e.name.to_lowercase().contains(q) || e.title.to_lowercase().contains(q)
            })
        })
        .collect();
    let offset = call
        .cursor
        .as_ref()
        .and_then(|c| c.get("offset"))
        .and_then(Value::as_u64)
        .unwrap_or(0) as usize;
    let limit = call.limit(10, 100);
    let page: Vec<Value> = matching
        .iter()
        .skip(offset)
        .take(limit)
        .map(to_value)
        .collect();
    let next = offset + page.len();
    let more = next < matching.len();
    Ok(
        Success::new(json!({"items": page, "total": matching.len()}))
            .variable("employeeCount", matching.len())
            .next_page(more.then(|| json!({"offset": next}))),
    )
}

#[derive(Deserialize)]
struct CreateParams {
    name: String,
    email: String,
    department: String,
    title: String,
}

async fn create(call: Call) -> Outcome {
    let p: CreateParams = call.params_as()?;
    let name = p.name.trim();
    if name.is_empty() {
        return fail(ConnectorError::invalid_input("name must not be empty"));
    }
    let email = p.email.trim().to_lowercase();
    let valid_email = email.split_once('@').is_some_and(|(user, host)| {
        !user.is_empty() && host.contains('.') && !host.starts_with('.')
    });
    if !valid_email {
        return fail(ConnectorError::invalid_input(format!(
            "'{}' is not a valid email address",
            p.email
        )));
    }
    let mut created = CREATED
        .lock()
        .map_err(|_| ConnectorError::internal("directory state is unavailable"))?;
    let mine = created.entry(call.instance.id.clone()).or_default();
    if SEED.iter().chain(mine.iter()).any(|e| e.email == email) {
        return fail(ConnectorError::conflict(format!(
            "an employee with email '{email}' already exists"
        )));
    }
    let employee = Employee {
        id: format!("E{:03}", SEED.len() + mine.len() + 1),
        name: name.to_string(),
        email,
        department: p.department,
        title: p.title,
        location: LOCATIONS[0].to_string(),
    };
    mine.push(employee.clone());
    Ok(Success::new(to_value(&employee)).variable("employeeId", employee.id))
}

/// Config fields declared secret above; echo masks them.
const SECRET_FIELDS: [&str; 1] = ["apiKey"];

async fn echo(call: Call) -> Outcome {
    let config: Map<String, Value> = call
        .config
        .iter()
        .map(|(k, v)| {
            let shown = if SECRET_FIELDS.contains(&k.as_str()) {
                json!("********")
            } else {
                v.clone()
            };
            (k.clone(), shown)
        })
        .collect();
    Ok(Success::new(
        json!({"params": call.params, "variables": call.variables, "config": config}),
    ))
}
