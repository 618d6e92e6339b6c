//! The built-in connector types, one module each, every one the same shape:
//! a `definition()` that declares the spec and wires one handler per command.
//! To add one, copy the closest module, edit it, and list it in `registry()`.

pub mod confluence;
pub mod conformance;
pub mod delay;
pub mod directory;
pub mod github;
pub mod http;
pub mod jira;
pub mod mcp;
pub mod salesforce;
pub mod sample_script;
mod vendor;

use std::sync::Arc;

use switchboard_runtime::Registry;

/// Set to `1` to register the test-only connector types (the conformance fixture).
pub const TEST_CONNECTORS_ENV: &str = "SWITCHBOARD_TEST_CONNECTORS";

/// Every built-in type, ready to seed the catalog and execute; the test fixtures too
/// when `SWITCHBOARD_TEST_CONNECTORS=1`.
pub fn registry() -> Registry {
    let with_tests = std::env::var(TEST_CONNECTORS_ENV).is_ok_and(|v| v == "1");
    registry_with(with_tests)
}

pub fn registry_with(test_connectors: bool) -> Registry {
    let mut r = Registry::new();
    r.register(Arc::new(confluence::definition()));
    r.register(Arc::new(delay::definition()));
    r.register(Arc::new(directory::definition()));
    r.register(Arc::new(github::definition()));
    r.register(Arc::new(http::definition()));
    r.register(Arc::new(jira::definition()));
    r.register(Arc::new(salesforce::definition()));
    r.register(mcp::connector());
    r.seed_type(sample_script::seed());
    if test_connectors {
        r.register(Arc::new(conformance::definition()));
    }
    r
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_builtin_is_well_formed() {
        let r = super::registry_with(false);
        let names: Vec<_> = r.specs().map(|s| s.name.clone()).collect();
        // Scaffolded connectors join these; none of the core ones may go missing.
        for core in [
            "confluence",
            "delay",
            "directory",
            "github",
            "http",
            "jira",
            "mcp",
            "salesforce",
        ] {
            assert!(names.iter().any(|n| n == core), "{core} is not registered");
        }
        for spec in r.specs() {
            spec.check().unwrap();
            for c in &spec.commands {
                assert!(
                    !c.description.is_empty(),
                    "{}.{} needs a description",
                    spec.name,
                    c.name
                );
                assert!(
                    c.mock("default").is_some(),
                    "{}.{} needs a default mock",
                    spec.name,
                    c.name
                );
            }
        }
    }
}
