//! Real documents: GitHub's description (npm `@octokit/openapi`) and every OpenAPI 3.x
//! document of npm `@readme/oas-examples`, installed into tests/oas/node_modules by
//! `scripts/oas-corpus` (which `scripts/test` runs). Without them the tests say so and pass.

use std::path::{Path, PathBuf};

use switchboard_openapi::{build_type, parse, ParseLimits, TypeOptions};

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/oas/node_modules")
}

fn installed(what: &Path) -> bool {
    if what.exists() {
        return true;
    }
    eprintln!(
        "skipped: {} is not installed; run scripts/oas-corpus (scripts/test does)",
        what.display()
    );
    false
}

#[test]
fn githubs_description_parses_into_a_draft() {
    let file = corpus_dir().join("@octokit/openapi/generated/api.github.com.json");
    if !installed(&file) {
        return;
    }
    let text = std::fs::read_to_string(&file).expect("read GitHub's description");
    let draft = parse(&text, &ParseLimits::default()).expect("GitHub's description parses");
    eprintln!(
        "GitHub: {} commands, {} warnings",
        draft.commands.len(),
        draft.warnings.len()
    );
    for w in draft.warnings.iter().take(20) {
        eprintln!("  warning at {}: {}", w.pointer, w.message);
    }
    assert!(draft.commands.len() > 1000, "{}", draft.commands.len());
    eprintln!(
        "GitHub draft as JSON: {} bytes",
        draft.to_json().to_string().len()
    );
    let skipped: Vec<_> = draft
        .warnings
        .iter()
        .filter(|w| w.message.starts_with("operation skipped"))
        .collect();
    assert!(skipped.is_empty(), "operations skipped: {skipped:#?}");
    assert_eq!(
        draft.config[0].default,
        Some(serde_json::json!("https://api.github.com"))
    );
    let get = draft
        .commands
        .iter()
        .find(|c| c.operation.operation_id.as_deref() == Some("repos/get"))
        .expect("repos/get");
    assert_eq!(get.spec.name, "repos_get");
    assert_eq!(get.operation.path, "/repos/{owner}/{repo}");
    // Every command of the whole API makes a valid type with a short prefix.
    let t = build_type(
        &draft,
        &TypeOptions {
            name: "github".into(),
            ..TypeOptions::default()
        },
    )
    .expect("a type from all of GitHub's operations");
    assert_eq!(t.definition.operations.len(), draft.commands.len());
}

#[test]
fn every_openapi_3_document_of_readme_oas_examples_parses() {
    let root = corpus_dir().join("@readme/oas-examples");
    if !installed(&root) {
        return;
    }
    let mut files = Vec::new();
    for version in ["3.0", "3.1"] {
        for format in ["json", "yaml"] {
            let dir = root.join(version).join(format);
            for entry in std::fs::read_dir(&dir).expect("example folder") {
                let path = entry.expect("entry").path();
                if path.is_file() {
                    files.push(path);
                }
            }
        }
    }
    files.sort();
    assert!(files.len() > 100, "only {} documents found", files.len());
    let mut failures = Vec::new();
    let mut commands = 0;
    for file in &files {
        let text = std::fs::read_to_string(file).expect("read example");
        match parse(&text, &ParseLimits::default()) {
            Ok(draft) => {
                commands += draft.commands.len();
                for w in &draft.warnings {
                    eprintln!(
                        "  {}: warning at {}: {}",
                        file.display(),
                        w.pointer,
                        w.message
                    );
                }
            }
            Err(e) => failures.push(format!("{}: {e}", file.display())),
        }
    }
    eprintln!(
        "@readme/oas-examples: {} documents, {} commands, {} failed",
        files.len(),
        commands,
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "documents that failed:\n{}",
        failures.join("\n")
    );
}
