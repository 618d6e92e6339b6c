//! The sample script connector type `sample-script`: an employee directory written
//! against the script host API (`sb.*`), seeded into every catalog as a working
//! reference (seed `003`). Its source is `employees.js` beside this file.

use serde_json::{json, Value};

pub const SOURCE: &str = include_str!("employees.js");

/// The type, in the body shape of `POST /api/connector-types`.
pub fn seed() -> Value {
    json!({
        "name": "sample-script",
        "description": "Sample script connector: an employee directory showing every part of the script API.",
        "version": "1.0.0",
        "executionModel": "script",
        "category": "samples",
        "tags": ["sample", "script", "people"],
        "configSchema": {
            "connectionConfig": {
                "company": {"type": "string", "default": "Acme", "description": "Shown by test."},
                "apiBaseUrl": {"type": "string", "description": "An HR API to use instead of the sample data (GET /employees, GET /employees/:id, POST /employees, GET /health)."},
                "apiKey": {"type": "string", "secret": true, "description": "Bearer token for the HR API."}
            },
            "commands": {
                "test": {
                    "description": "Connectivity check: the script's version and how many employees it sees.",
                    "access": "read",
                    "outputs": ["version", "source"]
                },
                "lookupEmployee": {
                    "description": "Find one employee by id (E001) or email.",
                    "access": "read",
                    "params": ["id", "email"],
                    "paramSchema": {
                        "id": {"type": "string", "description": "Employee id, e.g. E001."},
                        "email": {"type": "string", "description": "Work email address."}
                    },
                    "outputs": ["id", "name", "email", "department", "title"]
                },
                "listEmployees": {
                    "description": "List employees, optionally of one department.",
                    "access": "read",
                    "params": ["department", "limit"],
                    "paramSchema": {
                        "department": {"type": "string", "description": "Engineering, Research or Operations."},
                        "limit": {"type": "integer", "default": 10, "minimum": 1, "maximum": 100}
                    },
                    "outputs": ["employees", "total"]
                },
                "createEmployee": {
                    "description": "Create an employee (simulated without an HR API): validates name and email.",
                    "access": "write",
                    "params": ["name", "email", "department", "title"],
                    "paramSchema": {
                        "name": {"type": "string", "required": true},
                        "email": {"type": "string", "required": true},
                        "department": {"type": "select", "enum": ["Engineering", "Research", "Operations"], "default": "Engineering"},
                        "title": {"type": "string"}
                    },
                    "outputs": ["id"]
                },
                "echo": {
                    "description": "Returns sb.params, sb.config and sb.variables as the script sees them (secrets masked by the hub).",
                    "access": "read",
                    "params": ["message", "data"],
                    "paramSchema": {
                        "message": {"type": "string"},
                        "data": {"type": "json"}
                    }
                }
            }
        },
        "scriptSource": SOURCE,
        "limits": {"cpuMs": 1000, "maxHttpCalls": 5}
    })
}
