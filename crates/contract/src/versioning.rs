//! Schema versioning (SPEC section 4): the smallest semver bump a change to a
//! connector type needs, with every change named, so an update with too small a
//! bump can be refused with reasons and `autoBump` can compute the next version.
//!
//! Major: a removed command, parameter, output or connection field; a parameter
//! added without a default that callers must send (required); a connection field
//! added as required without a default; a changed field kind or a removed select
//! option; a parameter or connection field that became required; a read command
//! that now writes. Minor: a new command, output, optional parameter (or one with
//! a default), optional connection field; a new select option; a deprecation; a
//! relaxed requirement; a changed default. Patch: anything else that differs
//! (descriptions, the script, the endpoint).

use std::cmp::Ordering;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::definition::{Access, CommandSpec, ConnectorSpec};
use crate::schema::{FieldKind, FieldSpec};

/// A semver bump level, ordered `Patch < Minor < Major`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Bump {
    Patch,
    Minor,
    Major,
}

impl Bump {
    pub fn as_str(self) -> &'static str {
        match self {
            Bump::Patch => "patch",
            Bump::Minor => "minor",
            Bump::Major => "major",
        }
    }
}

impl fmt::Display for Bump {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One difference between two versions of a type, and the bump it needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    pub level: Bump,
    pub description: String,
}

fn change(level: Bump, description: String) -> Change {
    Change { level, description }
}

/// A `major.minor.patch` version (pre-release and build suffixes are kept but do
/// not count for the bump rules).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    pub major: u64,
    pub minor: u64,
    pub patch: u64,
}

impl Version {
    pub fn parse(s: &str) -> Result<Version, String> {
        let core = s.trim().split(['-', '+']).next().unwrap_or_default();
        let parts: Vec<&str> = core.split('.').collect();
        let bad = || format!("version '{s}' is not a semantic version like 1.2.3");
        if parts.len() != 3 {
            return Err(bad());
        }
        let num = |p: &str| -> Result<u64, String> {
            if p.is_empty() || (p.len() > 1 && p.starts_with('0')) {
                return Err(bad());
            }
            p.parse::<u64>().map_err(|_| bad())
        };
        Ok(Version {
            major: num(parts[0])?,
            minor: num(parts[1])?,
            patch: num(parts[2])?,
        })
    }

    /// The smallest version that carries a bump of `level` over `self`.
    pub fn bumped(&self, level: Bump) -> Version {
        match level {
            Bump::Major => Version {
                major: self.major + 1,
                minor: 0,
                patch: 0,
            },
            Bump::Minor => Version {
                major: self.major,
                minor: self.minor + 1,
                patch: 0,
            },
            Bump::Patch => Version {
                patch: self.patch + 1,
                ..self.clone()
            },
        }
    }

    /// The bump from `self` to `newer`, or `None` when `newer` is not greater.
    pub fn bump_to(&self, newer: &Version) -> Option<Bump> {
        match self.cmp(newer) {
            Ordering::Less if newer.major > self.major => Some(Bump::Major),
            Ordering::Less if newer.minor > self.minor => Some(Bump::Minor),
            Ordering::Less => Some(Bump::Patch),
            _ => None,
        }
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.major, self.minor, self.patch).cmp(&(other.major, other.minor, other.patch))
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

/// Every difference between `old` and `new` that matters to callers, with its level.
/// `behaviour_changed` says whether what runs changed (script, endpoint, operations),
/// which is a patch when nothing else is.
pub fn diff(old: &ConnectorSpec, new: &ConnectorSpec, behaviour_changed: bool) -> Vec<Change> {
    let mut out = Vec::new();
    for c in &old.commands {
        match new.command(&c.name) {
            None => out.push(change(
                Bump::Major,
                format!("command '{}' was removed", c.name),
            )),
            Some(n) => diff_command(c, n, &mut out),
        }
    }
    for c in &new.commands {
        if old.command(&c.name).is_none() {
            out.push(change(
                Bump::Minor,
                format!("command '{}' was added", c.name),
            ));
        }
    }
    diff_fields(
        &old.config,
        &new.config,
        "connection field",
        "",
        true,
        &mut out,
    );
    if old.default_command != new.default_command {
        out.push(change(
            Bump::Major,
            format!(
                "the default command changed from {} to {}",
                quoted(old.default_command.as_deref()),
                quoted(new.default_command.as_deref())
            ),
        ));
    }
    if old.tool_prefix != new.tool_prefix {
        out.push(change(
            Bump::Major,
            format!(
                "the tool prefix changed from '{}' to '{}' (every tool name changes)",
                old.tool_prefix, new.tool_prefix
            ),
        ));
    }
    if out.is_empty() {
        let described = old.description != new.description
            || old.category != new.category
            || old.tags != new.tags
            || old.docs_url != new.docs_url
            || old.commands != new.commands
            || old.config != new.config;
        if described {
            out.push(change(
                Bump::Patch,
                "descriptions or other metadata changed".into(),
            ));
        }
        if behaviour_changed {
            out.push(change(
                Bump::Patch,
                "the implementation changed (script, endpoint or operations)".into(),
            ));
        }
    }
    out
}

fn quoted(s: Option<&str>) -> String {
    s.map_or_else(|| "none".to_string(), |s| format!("'{s}'"))
}

/// The largest level among `changes`, or `None` when nothing changed.
pub fn required_bump(changes: &[Change]) -> Option<Bump> {
    changes.iter().map(|c| c.level).max()
}

fn diff_command(old: &CommandSpec, new: &CommandSpec, out: &mut Vec<Change>) {
    let ctx = format!(" of command '{}'", old.name);
    diff_fields(&old.params, &new.params, "parameter", &ctx, false, out);
    for o in &old.outputs {
        if !new.outputs.contains(o) {
            out.push(change(
                Bump::Major,
                format!("output '{o}'{ctx} was removed"),
            ));
        }
    }
    for o in &new.outputs {
        if !old.outputs.contains(o) {
            out.push(change(Bump::Minor, format!("output '{o}'{ctx} was added")));
        }
    }
    if old.access != new.access {
        let level = if old.access == Access::Read || new.access == Access::Destructive {
            Bump::Major
        } else {
            Bump::Minor
        };
        out.push(change(
            level,
            format!(
                "command '{}' changed from {:?} to {:?} access",
                old.name, old.access, new.access
            )
            .to_lowercase(),
        ));
    }
    if old.standard != new.standard {
        let lost = (old.standard.paginated && !new.standard.paginated)
            || (old.standard.projection && !new.standard.projection)
            || (old.standard.expand && !new.standard.expand)
            || (old.standard.idempotency_key && !new.standard.idempotency_key);
        out.push(change(
            if lost { Bump::Major } else { Bump::Minor },
            format!("the standard inputs{ctx} changed"),
        ));
    }
    if !old.deprecation.deprecated && new.deprecation.deprecated {
        out.push(change(
            Bump::Minor,
            format!("command '{}' was deprecated", old.name),
        ));
    } else if old.deprecation.deprecated && !new.deprecation.deprecated {
        out.push(change(
            Bump::Minor,
            format!("command '{}' is no longer deprecated", old.name),
        ));
    }
    if old.raw_input_schema != new.raw_input_schema && old.params == new.params {
        out.push(change(
            Bump::Major,
            format!("the input schema{ctx} changed"),
        ));
    }
}

/// Params (`config == false`) and connection fields (`config == true`) follow the
/// same rules; `ctx` names the command for params.
fn diff_fields(
    old: &[FieldSpec],
    new: &[FieldSpec],
    noun: &str,
    ctx: &str,
    config: bool,
    out: &mut Vec<Change>,
) {
    for f in old {
        let Some(n) = new.iter().find(|n| n.name == f.name) else {
            out.push(change(
                Bump::Major,
                format!("{noun} '{}'{ctx} was removed", f.name),
            ));
            continue;
        };
        if !same_kind(&f.kind, &n.kind) {
            out.push(change(
                Bump::Major,
                format!(
                    "{noun} '{}'{ctx} changed type from {} to {}",
                    f.name,
                    kind_name(&f.kind),
                    kind_name(&n.kind)
                ),
            ));
        } else if let (FieldKind::Select { options: a }, FieldKind::Select { options: b }) =
            (&f.kind, &n.kind)
        {
            let removed: Vec<&String> = a.iter().filter(|o| !b.contains(o)).collect();
            let added: Vec<&String> = b.iter().filter(|o| !a.contains(o)).collect();
            if !removed.is_empty() {
                out.push(change(
                    Bump::Major,
                    format!(
                        "{noun} '{}'{ctx} no longer accepts {}",
                        f.name,
                        list(&removed)
                    ),
                ));
            }
            if !added.is_empty() {
                out.push(change(
                    Bump::Minor,
                    format!("{noun} '{}'{ctx} now accepts {}", f.name, list(&added)),
                ));
            }
        } else if f.kind != n.kind {
            out.push(change(
                Bump::Major,
                format!("the bounds of {noun} '{}'{ctx} changed", f.name),
            ));
        }
        if !f.required && n.required && n.default.is_none() {
            out.push(change(
                Bump::Major,
                format!("{noun} '{}'{ctx} became required", f.name),
            ));
        } else if f.required && !n.required {
            out.push(change(
                Bump::Minor,
                format!("{noun} '{}'{ctx} is no longer required", f.name),
            ));
        }
        if f.default != n.default {
            out.push(change(
                Bump::Minor,
                format!("the default of {noun} '{}'{ctx} changed", f.name),
            ));
        }
    }
    for n in new {
        if old.iter().any(|f| f.name == n.name) {
            continue;
        }
        // A new param callers must now send breaks old callers; so does a required
        // connection field, which existing connectors do not have.
        let breaking = n.required && n.default.is_none();
        let what = if config {
            "required"
        } else {
            "required, without a default"
        };
        if breaking {
            out.push(change(
                Bump::Major,
                format!("{noun} '{}'{ctx} was added as {what}", n.name),
            ));
        } else {
            out.push(change(
                Bump::Minor,
                format!("optional {noun} '{}'{ctx} was added", n.name),
            ));
        }
    }
}

fn same_kind(a: &FieldKind, b: &FieldKind) -> bool {
    std::mem::discriminant(a) == std::mem::discriminant(b)
}

fn kind_name(k: &FieldKind) -> &'static str {
    match k {
        FieldKind::String => "string",
        FieldKind::Secret => "secret",
        FieldKind::SecretMap => "secret map",
        FieldKind::Number { .. } => "number",
        FieldKind::Integer { .. } => "integer",
        FieldKind::Boolean => "boolean",
        FieldKind::Date => "date",
        FieldKind::Select { .. } => "select",
        FieldKind::StringList => "string list",
        FieldKind::Json { .. } => "json",
    }
}

fn list(values: &[&String]) -> String {
    values
        .iter()
        .map(|v| format!("'{v}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Why a proposed version is refused, or the version to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BumpCheck {
    /// The proposed (or computed) version clears the floor.
    Accepted { version: String },
    /// Too small: the message names each change and the level it requires.
    Refused {
        required: Bump,
        minimum: String,
        message: String,
    },
}

/// Checks `proposed` against the changes from `old_version`. With `auto_bump`, a
/// missing or too small version is replaced by the smallest that clears the floor.
pub fn check_bump(
    old_version: &str,
    proposed: Option<&str>,
    changes: &[Change],
    auto_bump: bool,
) -> Result<BumpCheck, String> {
    let old = Version::parse(old_version)?;
    let proposed_v = proposed.map(Version::parse).transpose()?;
    let Some(required) = required_bump(changes) else {
        // Nothing changed: any version not lower than the current one is fine.
        return match proposed_v {
            Some(p) if p < old => Err(format!(
                "version {p} is lower than the current version {old}"
            )),
            Some(_) => Ok(BumpCheck::Accepted {
                version: proposed.unwrap_or(old_version).trim().to_string(),
            }),
            None => Ok(BumpCheck::Accepted {
                version: old_version.to_string(),
            }),
        };
    };
    let minimum = old.bumped(required);
    let clears = |p: &Version| old.bump_to(p).is_some_and(|b| b >= required);
    match (proposed_v, auto_bump) {
        (Some(p), _) if clears(&p) => Ok(BumpCheck::Accepted {
            version: proposed.unwrap_or_default().trim().to_string(),
        }),
        (_, true) => Ok(BumpCheck::Accepted {
            version: minimum.to_string(),
        }),
        (p, false) => {
            let given = match &p {
                Some(p) => match old.bump_to(p) {
                    Some(b) => format!("{old} → {p} is a {b} bump"),
                    None => format!("{old} → {p} is not a bump"),
                },
                None => format!("the version stays {old}"),
            };
            let reasons: Vec<String> = changes
                .iter()
                .filter(|c| c.level > Bump::Patch || required == Bump::Patch)
                .map(|c| format!("{} ({})", c.description, c.level))
                .collect();
            Ok(BumpCheck::Refused {
                required,
                minimum: minimum.to_string(),
                message: format!(
                    "{given}, but these changes need a {required} bump (to {minimum} or later): {}; \
                     set version to {minimum} or send autoBump: true",
                    reasons.join("; ")
                ),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::definition::ExecutionModel;

    fn spec(commands: Vec<CommandSpec>, config: Vec<FieldSpec>) -> ConnectorSpec {
        ConnectorSpec {
            name: "crm".into(),
            version: "1.2.3".into(),
            description: "CRM".into(),
            category: None,
            tags: vec![],
            tool_prefix: "crm".into(),
            execution_model: ExecutionModel::Script,
            scopes: vec![],
            requires_oauth: false,
            oauth_provider: None,
            docs_url: None,
            config,
            default_command: None,
            commands,
        }
    }

    fn list_cmd() -> CommandSpec {
        CommandSpec::new("listContacts", Access::Read, "List contacts")
            .param(FieldSpec::integer("limit").default_value(50))
            .outputs(["contacts"])
    }

    fn base() -> ConnectorSpec {
        spec(
            vec![
                CommandSpec::new("health", Access::Read, "Health"),
                list_cmd(),
            ],
            vec![FieldSpec::string("baseUrl").required()],
        )
    }

    fn level(old: &ConnectorSpec, new: &ConnectorSpec) -> Option<Bump> {
        required_bump(&diff(old, new, false))
    }

    #[test]
    fn versions_parse_and_bump() {
        let v = Version::parse("1.2.3").unwrap();
        assert_eq!(v.bumped(Bump::Major).to_string(), "2.0.0");
        assert_eq!(v.bumped(Bump::Minor).to_string(), "1.3.0");
        assert_eq!(v.bumped(Bump::Patch).to_string(), "1.2.4");
        assert_eq!(
            v.bump_to(&Version::parse("1.3.0").unwrap()),
            Some(Bump::Minor)
        );
        assert_eq!(v.bump_to(&Version::parse("1.2.3").unwrap()), None);
        assert!(Version::parse("1.2").is_err());
        assert!(Version::parse("01.2.3").is_err());
        assert!(Version::parse("x.y.z").is_err());
        assert_eq!(Version::parse("2.0.0-beta.1").unwrap().major, 2);
    }

    #[test]
    fn removing_a_command_is_major() {
        let mut new = base();
        new.commands.retain(|c| c.name != "listContacts");
        let changes = diff(&base(), &new, false);
        assert_eq!(required_bump(&changes), Some(Bump::Major));
        assert!(changes[0]
            .description
            .contains("'listContacts' was removed"));
    }

    #[test]
    fn params_follow_the_rules() {
        let mut new = base();
        new.commands[1].params.push(FieldSpec::string("q"));
        assert_eq!(level(&base(), &new), Some(Bump::Minor), "optional param");

        let mut new = base();
        new.commands[1]
            .params
            .push(FieldSpec::string("q").required().default_value("x"));
        assert_eq!(
            level(&base(), &new),
            Some(Bump::Minor),
            "param with default"
        );

        let mut new = base();
        new.commands[1]
            .params
            .push(FieldSpec::string("q").required());
        assert_eq!(level(&base(), &new), Some(Bump::Major), "required param");

        let mut new = base();
        new.commands[1].params.clear();
        assert_eq!(level(&base(), &new), Some(Bump::Major), "removed param");

        let mut new = base();
        new.commands[1].params[0].kind = FieldKind::String;
        let changes = diff(&base(), &new, false);
        assert_eq!(required_bump(&changes), Some(Bump::Major), "type change");
        assert!(changes[0]
            .description
            .contains("changed type from integer to string"));
    }

    #[test]
    fn outputs_and_connection_fields() {
        let mut new = base();
        new.commands[1].outputs.push("total".into());
        assert_eq!(level(&base(), &new), Some(Bump::Minor));
        let mut new = base();
        new.commands[1].outputs.clear();
        assert_eq!(level(&base(), &new), Some(Bump::Major));
        let mut new = base();
        new.config.push(FieldSpec::secret("apiKey"));
        assert_eq!(level(&base(), &new), Some(Bump::Minor));
        let mut new = base();
        new.config.push(FieldSpec::secret("apiKey").required());
        assert_eq!(level(&base(), &new), Some(Bump::Major));
        let mut new = base();
        new.config.clear();
        assert_eq!(level(&base(), &new), Some(Bump::Major));
    }

    #[test]
    fn descriptions_and_behaviour_are_patches() {
        let mut new = base();
        new.commands[1].description = "List every contact".into();
        assert_eq!(level(&base(), &new), Some(Bump::Patch));
        assert_eq!(
            required_bump(&diff(&base(), &base(), true)),
            Some(Bump::Patch)
        );
        assert_eq!(level(&base(), &base()), None);
    }

    #[test]
    fn deprecation_is_minor_and_new_commands_too() {
        let mut new = base();
        new.commands[1] = list_cmd().deprecated("use listContactsV2");
        new.commands.push(CommandSpec::new(
            "listContactsV2",
            Access::Read,
            "List contacts with cursors",
        ));
        assert_eq!(level(&base(), &new), Some(Bump::Minor));
    }

    #[test]
    fn an_under_bump_is_refused_naming_each_change() {
        let mut new = base();
        new.commands.retain(|c| c.name != "listContacts");
        new.commands
            .push(CommandSpec::new("search", Access::Read, "Search"));
        let changes = diff(&base(), &new, false);
        match check_bump("1.2.3", Some("1.3.0"), &changes, false).unwrap() {
            BumpCheck::Refused {
                required,
                minimum,
                message,
            } => {
                assert_eq!(required, Bump::Major);
                assert_eq!(minimum, "2.0.0");
                assert!(
                    message.contains("1.2.3 → 1.3.0 is a minor bump"),
                    "{message}"
                );
                assert!(
                    message.contains("command 'listContacts' was removed (major)"),
                    "{message}"
                );
                assert!(
                    message.contains("command 'search' was added (minor)"),
                    "{message}"
                );
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
        assert_eq!(
            check_bump("1.2.3", Some("2.0.0"), &changes, false).unwrap(),
            BumpCheck::Accepted {
                version: "2.0.0".into()
            }
        );
        assert_eq!(
            check_bump("1.2.3", None, &changes, true).unwrap(),
            BumpCheck::Accepted {
                version: "2.0.0".into()
            }
        );
        assert!(matches!(
            check_bump("1.2.3", None, &changes, false).unwrap(),
            BumpCheck::Refused { .. }
        ));
    }

    #[test]
    fn no_change_keeps_the_version_and_refuses_a_downgrade() {
        assert_eq!(
            check_bump("1.2.3", None, &[], false).unwrap(),
            BumpCheck::Accepted {
                version: "1.2.3".into()
            }
        );
        assert!(check_bump("1.2.3", Some("1.0.0"), &[], false).is_err());
        assert!(check_bump("nope", Some("1.0.0"), &[], false).is_err());
    }
}
