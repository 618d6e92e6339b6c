//! `switchboard new-connector` on a copy of the workspace: the stub is written and
//! registered, a second run changes nothing, a differing stub is kept without
//! `--force`, and the generated code compiles and passes its own tests.

use std::path::{Path, PathBuf};
use std::process::Command;

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("crates/cli is two levels below the workspace root")
        .to_path_buf()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        if name == "target" || name == ".git" {
            continue;
        }
        let dest = to.join(&name);
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &dest);
        } else {
            std::fs::copy(entry.path(), &dest).unwrap();
        }
    }
}

/// The connectors crate and what it depends on, in a throw-away workspace.
fn scratch_workspace() -> tempfile::TempDir {
    let root = workspace_root();
    let dir = tempfile::tempdir().unwrap();
    for f in ["Cargo.toml", "Cargo.lock"] {
        std::fs::copy(root.join(f), dir.path().join(f)).unwrap();
    }
    for c in ["contract", "store", "openapi", "runtime", "connectors"] {
        copy_dir(
            &root.join("crates").join(c),
            &dir.path().join("crates").join(c),
        );
    }
    // The copy's crates share their names and relative paths with the real ones, so
    // in a shared target dir they would share artifact names too; a profile setting
    // that changes nothing else gives them their own, while dependencies are reused.
    let mut config = String::new();
    for c in ["contract", "store", "openapi", "runtime", "connectors"] {
        config.push_str(&format!(
            "[profile.dev.package.switchboard-{c}]\ncodegen-units = 250\n"
        ));
    }
    std::fs::create_dir_all(dir.path().join(".cargo")).unwrap();
    std::fs::write(dir.path().join(".cargo/config.toml"), config).unwrap();
    dir
}

fn scaffold(root: &Path, args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .arg("new-connector")
        .args(args)
        .arg("--root")
        .arg(root)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

fn read(p: PathBuf) -> String {
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[test]
fn scaffolded_connector_compiles_and_passes_its_tests() {
    let ws = scratch_workspace();
    let root = ws.path();
    let src = root.join("crates/connectors/src");
    let lib_before = read(src.join("lib.rs"));

    for bad in ["Acme", "acme_crm", "acme--crm", "acme-", "type"] {
        let (ok, out) = scaffold(root, &[bad]);
        assert!(!ok, "{bad} was accepted");
        assert!(
            out.contains("kebab-case") || out.contains("reserved"),
            "{out}"
        );
    }
    assert_eq!(
        read(src.join("lib.rs")),
        lib_before,
        "refusals change nothing"
    );

    let (ok, out) = scaffold(root, &["acme-crm", "--description", "Acme CRM: contacts."]);
    assert!(ok, "{out}");
    let stub = read(src.join("acme_crm.rs"));
    assert!(stub.contains(r#"const DESCRIPTION: &str = "Acme CRM: contacts.";"#));
    for part in [
        "struct AcmeCrmConnection",
        "fn map_error(",
        "\"health\"",
        "\"list_items\"",
        ".mock_payload(\"empty\"",
        "#[cfg(test)]",
    ] {
        assert!(stub.contains(part), "the stub lacks {part}");
    }
    let lib = read(src.join("lib.rs"));
    assert!(
        lib.contains("pub mod acme_crm;\npub mod confluence;"),
        "{lib}"
    );
    assert_eq!(
        lib.matches("r.register(Arc::new(acme_crm::definition()));")
            .count(),
        1
    );

    // Idempotent: the same run again changes nothing.
    let (ok, out) = scaffold(root, &["acme-crm", "-d", "Acme CRM: contacts."]);
    assert!(ok && out.contains("nothing changed"), "{out}");
    assert_eq!(read(src.join("acme_crm.rs")), stub);
    assert_eq!(read(src.join("lib.rs")), lib);

    // A differing stub is not overwritten without --force.
    let (ok, out) = scaffold(root, &["acme-crm", "-d", "Something else."]);
    assert!(!ok && out.contains("--force"), "{out}");
    assert_eq!(read(src.join("acme_crm.rs")), stub);
    let (ok, out) = scaffold(root, &["acme-crm", "-d", "Something else.", "--force"]);
    assert!(ok, "{out}");
    assert!(read(src.join("acme_crm.rs")).contains("Something else."));
    assert_eq!(read(src.join("lib.rs")), lib, "registered once only");

    // The stub is formatted as `cargo fmt` leaves it.
    match Command::new("rustfmt")
        .args(["--edition", "2021", "--check"])
        .arg(src.join("acme_crm.rs"))
        .arg(src.join("lib.rs"))
        .output()
    {
        Ok(out) => assert!(
            out.status.success(),
            "generated code is not rustfmt-clean:\n{}",
            String::from_utf8_lossy(&out.stdout)
        ),
        Err(e) => eprintln!("rustfmt check skipped: rustfmt cannot run here ({e})"),
    }

    // The generated code compiles, and its tests and the registry's pass.
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"));
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = Command::new(cargo)
        .args(["test", "--offline", "-p", "switchboard-connectors", "--lib"])
        .current_dir(root)
        .env("CARGO_TARGET_DIR", &target)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "cargo test failed:\n{text}");
    for t in [
        "acme_crm::tests::definition_is_well_formed ... ok",
        "acme_crm::tests::list_items_mock_scenarios ... ok",
        "acme_crm::tests::errors_are_mapped ... ok",
        "tests::every_builtin_is_well_formed ... ok",
    ] {
        assert!(text.contains(t), "{t} missing:\n{text}");
    }
}
