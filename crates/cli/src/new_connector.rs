//! `switchboard new-connector <name>`: writes a built-in connector stub into
//! `crates/connectors/src/` in the shape every built-in has (a connection struct, an
//! error mapping, a `health` command, a paginated list command with mock scenarios,
//! unit tests) and lists it in `crates/connectors/src/lib.rs`.
//!
//! Idempotent: a second run with the same arguments changes nothing; a stub that
//! differs (edited, or another description) is only overwritten with `--force`.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

/// Where the connectors crate's sources are, relative to the workspace root.
const CONNECTORS_SRC: &str = "crates/connectors/src";

/// A connector name: kebab-case, e.g. `acme-crm`.
pub fn validate_name(name: &str) -> Result<(), String> {
    let parts_ok = name.split('-').all(|part| {
        !part.is_empty()
            && part
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
    });
    let starts_ok = name.chars().next().is_some_and(|c| c.is_ascii_lowercase());
    if !parts_ok || !starts_ok || name.len() > 32 {
        return Err(format!(
            "'{name}' is not a kebab-case connector name: use lower-case letters and digits in \
             words joined by single '-', starting with a letter, at most 32 characters (e.g. acme-crm)"
        ));
    }
    const RESERVED: [&str; 6] = ["lib", "mod", "self", "super", "crate", "sample-script"];
    if RESERVED.contains(&name) || is_keyword(&module_name(name)) {
        return Err(format!("'{name}' is reserved; choose another name"));
    }
    Ok(())
}

fn is_keyword(s: &str) -> bool {
    const KEYWORDS: [&str; 38] = [
        "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum",
        "extern", "false", "fn", "for", "if", "impl", "in", "let", "loop", "match", "mod", "move",
        "mut", "pub", "ref", "return", "self", "static", "struct", "super", "trait", "true",
        "type", "unsafe", "use", "where", "while", "gen",
    ];
    KEYWORDS.contains(&s)
}

/// `acme-crm` → `acme_crm`.
pub fn module_name(name: &str) -> String {
    name.replace('-', "_")
}

/// `acme-crm` → `AcmeCrm`.
fn pascal(name: &str) -> String {
    name.split('-')
        .map(|w| {
            let mut c = w.chars();
            match c.next() {
                Some(f) => f.to_ascii_uppercase().to_string() + c.as_str(),
                None => String::new(),
            }
        })
        .collect()
}

/// `acme-crm` → `Acme Crm`, for messages.
fn title(name: &str) -> String {
    name.split('-').map(pascal).collect::<Vec<_>>().join(" ")
}

/// A Rust string literal.
fn lit(s: &str) -> String {
    format!("{s:?}")
}

/// The stub's source. Formatted as `cargo fmt` leaves it.
pub fn render(name: &str, description: &str) -> String {
    let connection = format!("{}Connection", pascal(name));
    let vendor = title(name);
    TEMPLATE
        .replace("__NAME_LIT__", &lit(name))
        .replace("__DESCRIPTION_LIT__", &lit(description))
        .replace("__DESCRIPTION__", description)
        .replace("__NAME__", name)
        .replace("__CONNECTION__", &connection)
        .replace("__VENDOR_LIT__", &lit(&vendor))
}

/// `lib.rs` with the module declared and registered; unchanged when it already is.
pub fn register(lib_rs: &str, module: &str) -> Result<String, String> {
    let decl = format!("pub mod {module};");
    let reg = format!("r.register(Arc::new({module}::definition()));");
    let mut lines: Vec<String> = lib_rs.lines().map(str::to_string).collect();
    if !lines.iter().any(|l| l.trim() == decl) {
        let mods: Vec<usize> = lines
            .iter()
            .enumerate()
            .filter(|(_, l)| l.starts_with("pub mod "))
            .map(|(i, _)| i)
            .collect();
        let Some(&last) = mods.last() else {
            return Err("lib.rs declares no `pub mod` to add the new module beside".into());
        };
        let at = mods
            .iter()
            .copied()
            .find(|&i| lines[i].as_str() > decl.as_str())
            .unwrap_or(last + 1);
        lines.insert(at, decl);
    }
    if !lines.iter().any(|l| l.trim() == reg) {
        let regs: Vec<usize> = lines
            .iter()
            .enumerate()
            .filter(|(_, l)| l.trim_start().starts_with("r.register(Arc::new("))
            .map(|(i, _)| i)
            .collect();
        // After the unconditional registrations, before the test-only ones.
        let Some(&first) = regs.first() else {
            return Err(
                "lib.rs has no `r.register(Arc::new(...))` to add the new type beside".into(),
            );
        };
        let indent = lines[first].len() - lines[first].trim_start().len();
        let mut at = first;
        while at < lines.len()
            && lines[at].len() - lines[at].trim_start().len() == indent
            && lines[at].trim_start().starts_with("r.register(Arc::new(")
        {
            at += 1;
        }
        lines.insert(at, format!("{}{reg}", " ".repeat(indent)));
    }
    let mut out = lines.join("\n");
    if lib_rs.ends_with('\n') {
        out.push('\n');
    }
    Ok(out)
}

/// What a run did.
#[derive(Debug, PartialEq, Eq)]
pub struct Outcome {
    pub file: PathBuf,
    pub wrote_file: bool,
    pub registered: bool,
}

/// Finds the workspace root: `start` or the nearest parent holding the connectors crate.
pub fn find_root(start: &Path) -> Result<PathBuf> {
    let mut dir = Some(start);
    while let Some(d) = dir {
        if d.join(CONNECTORS_SRC).join("lib.rs").is_file() {
            return Ok(d.to_path_buf());
        }
        dir = d.parent();
    }
    bail!(
        "no Switchboard workspace here: run inside a checkout (with {CONNECTORS_SRC}/lib.rs) or pass --root"
    )
}

pub fn run(root: &Path, name: &str, description: Option<&str>, force: bool) -> Result<Outcome> {
    validate_name(name).map_err(anyhow::Error::msg)?;
    let src = root.join(CONNECTORS_SRC);
    let lib = src.join("lib.rs");
    if !lib.is_file() {
        bail!(
            "{} not found: pass --root with the workspace root",
            lib.display()
        );
    }
    let module = module_name(name);
    let default_description = format!("{} connector.", title(name));
    let description = description
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .unwrap_or(&default_description);
    if description.contains('\n') {
        bail!("--description must be one line");
    }
    let file = src.join(format!("{module}.rs"));
    if src.join(&module).is_dir() {
        bail!(
            "{} already exists as a folder module; choose another name",
            src.join(&module).display()
        );
    }
    let content = render(name, description);
    let wrote_file = match std::fs::read_to_string(&file) {
        Ok(existing) if existing == content => false,
        Ok(_) if !force => bail!(
            "{} already exists and differs from the stub; pass --force to overwrite it",
            file.display()
        ),
        Ok(_) | Err(_) => {
            std::fs::write(&file, &content)
                .with_context(|| format!("cannot write {}", file.display()))?;
            true
        }
    };
    let lib_rs =
        std::fs::read_to_string(&lib).with_context(|| format!("cannot read {}", lib.display()))?;
    let updated = register(&lib_rs, &module).map_err(anyhow::Error::msg)?;
    let registered = updated != lib_rs;
    if registered {
        std::fs::write(&lib, updated).with_context(|| format!("cannot write {}", lib.display()))?;
    }
    Ok(Outcome {
        file,
        wrote_file,
        registered,
    })
}

const TEMPLATE: &str = r#"//! `__NAME__`: __DESCRIPTION__
//!
//! Scaffolded by `switchboard new-connector`. Replace `list_items` with the vendor's
//! real commands (keep `health`: every connector has one), then run
//! `cargo test -p switchboard-connectors`.

use serde::Deserialize;
use serde_json::json;
use switchboard_contract::{
    fail, Access, CommandSpec, ConnectorError, ErrorCode, FieldKind, FieldSpec, Outcome, Success,
};
use switchboard_runtime::http::{error_for_status, OutboundRequest};
use switchboard_runtime::{Call, Definition};

/// The catalog id and tool prefix.
const NAME: &str = __NAME_LIT__;
const DESCRIPTION: &str = __DESCRIPTION_LIT__;
/// The vendor's name in error messages.
const VENDOR: &str = __VENDOR_LIT__;

pub fn definition() -> Definition {
    Definition::builder(NAME, "0.1.0", DESCRIPTION)
        .category("custom")
        .tags(&[NAME])
        .config(
            FieldSpec::string("baseUrl")
                .required()
                .describe("API base URL, e.g. https://api.example.com/v1"),
        )
        .config(
            FieldSpec::secret("apiKey")
                .required()
                .describe("API key, sent as a bearer token."),
        )
        .error_map(map_error)
        .command(
            CommandSpec::new(
                "health",
                Access::Read,
                "Check that the API answers with the configured API key.",
            )
            .outputs(["reachable"])
            .mock_payload("default", json!({"reachable": true})),
            health,
        )
        .command(
            CommandSpec::new("list_items", Access::Read, "List items, a page at a time.")
                .param(
                    FieldSpec::new("limit", FieldKind::integer_range(1, 100))
                        .default_value(20)
                        .describe("Items per page (1 to 100)."),
                )
                .paginated()
                .projection()
                .outputs(["items"])
                .mock_payload(
                    "default",
                    json!({"items": [{"id": "1", "name": "Sample item"}]}),
                )
                .mock_payload("empty", json!({"items": []}))
                .mock_error(
                    "rate_limited",
                    ConnectorError::rate_limited("too many requests", Some(2000)),
                ),
            list_items,
        )
        .build()
}

/// The connection config (the `.config(...)` fields above), as `config_as` reads it.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct __CONNECTION__ {
    base_url: String,
    api_key: String,
}

impl __CONNECTION__ {
    fn get(&self, path: &str) -> OutboundRequest {
        OutboundRequest::get(format!("{}{path}", self.base_url.trim_end_matches('/')))
            .bearer(&self.api_key)
    }
}

/// Vendor errors in words an agent can act on; `None` keeps the generic mapping.
fn map_error(error: &ConnectorError) -> Option<ConnectorError> {
    match error.code {
        ErrorCode::Unauthorized => Some(ConnectorError::new(
            ErrorCode::Unauthorized,
            format!("{VENDOR} rejected the API key: check apiKey on the connector"),
        )),
        ErrorCode::NotFound => Some(ConnectorError::not_found(format!(
            "{VENDOR} has no such item"
        ))),
        _ => None,
    }
}

async fn health(call: Call) -> Outcome {
    let conn: __CONNECTION__ = call.config_as()?;
    let resp = call
        .http
        .send(conn.get("/"), Some(call.ctx.deadline))
        .await
        .map_err(ConnectorError::from)?;
    if let Some(err) = error_for_status(&resp, VENDOR) {
        return fail(err);
    }
    Ok(Success::new(json!({"reachable": true, "status": resp.status})).rate_limit(resp.rate_limit))
}

#[derive(Deserialize)]
struct ListParams {
    limit: u32,
}

async fn list_items(call: Call) -> Outcome {
    let conn: __CONNECTION__ = call.config_as()?;
    let p: ListParams = call.params_as()?;
    let mut path = format!("/items?limit={}", p.limit);
    if let Some(cursor) = call.cursor.as_ref().and_then(|c| c["cursor"].as_str()) {
        path.push_str(&format!("&cursor={cursor}"));
    }
    let resp = call
        .http
        .send(conn.get(&path), Some(call.ctx.deadline))
        .await
        .map_err(ConnectorError::from)?;
    if let Some(err) = error_for_status(&resp, VENDOR) {
        return fail(err);
    }
    let body = resp.json_value();
    let next = body["next"].as_str().map(|c| json!({"cursor": c}));
    Ok(Success::new(json!({"items": body["items"].clone()}))
        .next_page(next)
        .rate_limit(resp.rate_limit))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use serde_json::Map;
    use switchboard_runtime::dispatcher::{dispatch, Dispatch};
    use switchboard_runtime::http::{NetworkPolicy, OutboundClient, OutboundConfig};
    use switchboard_runtime::{Connector, CursorSigner, Instance, RequestContext};

    use super::*;

    #[test]
    fn definition_is_well_formed() {
        let d = definition();
        d.spec().check().unwrap();
        for c in &d.spec().commands {
            assert!(!c.description.is_empty(), "{} needs a description", c.name);
            assert!(
                c.mock("default").is_some(),
                "{} needs a default mock",
                c.name
            );
        }
    }

    async fn run(command: &str, scenario: &str) -> switchboard_contract::Envelope {
        let client =
            OutboundClient::new(NetworkPolicy::new(Vec::new()), OutboundConfig::default()).unwrap();
        let d = definition();
        dispatch(
            Dispatch {
                connector: &d,
                command: Some(command),
                params: Map::new(),
                config: Map::new(),
                variables: Map::new(),
                mock_scenario: Some(scenario),
                instance: Instance::default(),
                ctx: RequestContext::new("test", Duration::from_secs(5)),
            },
            &client,
            &CursorSigner::new([0; 32]),
        )
        .await
        .envelope
    }

    #[tokio::test]
    async fn list_items_mock_scenarios() {
        let env = run("list_items", "default").await;
        assert_eq!(env.data.unwrap()["items"][0]["name"], "Sample item");
        let env = run("list_items", "empty").await;
        assert_eq!(env.data.unwrap(), json!({"items": []}));
        let env = run("list_items", "rate_limited").await;
        assert_eq!(env.error.unwrap().code, ErrorCode::RateLimited);
    }

    #[test]
    fn errors_are_mapped() {
        let mapped = map_error(&ConnectorError::new(ErrorCode::Unauthorized, "401")).unwrap();
        assert!(mapped.message.contains("check apiKey"));
        assert!(map_error(&ConnectorError::upstream("500")).is_none());
    }
}
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_kebab_case() {
        for ok in ["acme-crm", "widget", "s3", "a1-b2-c3"] {
            assert!(validate_name(ok).is_ok(), "{ok}");
        }
        for bad in [
            "Acme",
            "acme_crm",
            "-acme",
            "acme-",
            "acme--crm",
            "1acme",
            "",
            "acme crm",
            "self",
            "type",
            "sample-script",
        ] {
            assert!(validate_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn registration_is_sorted_and_idempotent() {
        let lib = "pub mod delay;\npub mod http;\n\nfn registry() {\n    r.register(Arc::new(delay::definition()));\n    r.register(Arc::new(http::definition()));\n    r.seed_type(x);\n    if t {\n        r.register(Arc::new(conformance::definition()));\n    }\n}\n";
        let once = register(lib, "acme_crm").unwrap();
        assert!(once.contains("pub mod acme_crm;\npub mod delay;"), "{once}");
        assert!(
            once.contains("    r.register(Arc::new(http::definition()));\n    r.register(Arc::new(acme_crm::definition()));\n    r.seed_type(x);"),
            "{once}"
        );
        assert_eq!(register(&once, "acme_crm").unwrap(), once);
        let z = register(lib, "zeta").unwrap();
        assert!(z.contains("pub mod http;\npub mod zeta;\n"), "{z}");
    }

    #[test]
    fn render_fills_every_placeholder() {
        let s = render("acme-crm", "Acme's \"CRM\".");
        assert!(!s.contains("__"), "{s}");
        assert!(s.contains("struct AcmeCrmConnection"));
        assert!(s.contains(r#"const DESCRIPTION: &str = "Acme's \"CRM\".";"#));
        assert!(s.contains(r#"const VENDOR: &str = "Acme Crm";"#));
    }
}
