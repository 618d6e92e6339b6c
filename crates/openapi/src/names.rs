//! Names: commands (from `operationId` or method and path), params and config fields.

use std::collections::HashSet;

/// Param names the hub itself interprets (standard inputs); an API parameter with one
/// of these names is renamed `<name>_<location>` so the hub never swallows it.
pub const RESERVED_PARAMS: [&str; 6] = [
    "cursor",
    "fields",
    "tenantId",
    "workspaceId",
    "requestId",
    "idempotencyKey",
];

/// The command name every connector type has; operations never take it.
pub const HEALTH: &str = "health";

/// FNV-1a, for short stable suffixes of truncated names.
fn short_hash(s: &str) -> String {
    let mut h: u32 = 0x811c_9dc5;
    for b in s.bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    format!("{:06x}", h & 0x00ff_ffff)
}

/// `[A-Za-z0-9_]` only, runs of anything else as one `_`, within `max` characters
/// (a longer name keeps its start and gets a hash of the whole, so it stays unique).
pub fn command_name(raw: &str, max: usize) -> String {
    let mut out = String::with_capacity(raw.len());
    for c in raw.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    let out = out.trim_matches('_').to_string();
    let out = if out.is_empty() {
        "operation".to_string()
    } else {
        out
    };
    if out.len() <= max {
        return out;
    }
    let hash = short_hash(&out);
    let keep = max.saturating_sub(hash.len() + 1);
    format!("{}_{hash}", out[..keep].trim_end_matches('_'))
}

/// `get /pets/{petId}/photos` → `get_pets_petId_photos`.
pub fn derived_name(method: &str, path: &str) -> String {
    let mut raw = method.to_ascii_lowercase();
    for segment in path.split('/').filter(|s| !s.is_empty()) {
        raw.push('_');
        raw.push_str(segment.trim_start_matches('{').trim_end_matches('}'));
    }
    raw
}

/// Hands out names unique within one scope.
#[derive(Debug, Default)]
pub struct UniqueNames {
    used: HashSet<String>,
}

impl UniqueNames {
    pub fn with_reserved(reserved: &[&str]) -> Self {
        UniqueNames {
            used: reserved.iter().map(|s| s.to_string()).collect(),
        }
    }
    pub fn is_free(&self, name: &str) -> bool {
        !self.used.contains(name)
    }
    pub fn claim(&mut self, name: &str) -> bool {
        self.used.insert(name.to_string())
    }
    /// `name`, else `name_2`, `name_3`… kept within `max` characters.
    pub fn unique(&mut self, name: &str, max: usize) -> String {
        if self.used.insert(name.to_string()) {
            return name.to_string();
        }
        for n in 2.. {
            let suffix = format!("_{n}");
            let mut base = name.to_string();
            while base.len() + suffix.len() > max && !base.is_empty() {
                base.pop();
            }
            let candidate = format!("{base}{suffix}");
            if self.used.insert(candidate.clone()) {
                return candidate;
            }
        }
        unreachable!("an unbounded counter always finds a free name")
    }
}

/// A property name every MCP client accepts: `[A-Za-z0-9_.-]`, 1 to 64 characters.
pub fn param_name(raw: &str) -> String {
    let mut out: String = raw
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if out.is_empty() {
        out.push_str("param");
    }
    out.truncate(64);
    out
}

/// `petstore_auth` → `petstoreAuth`, `X-API-Key` → `xApiKey`: config field names are camelCase.
pub fn camel(raw: &str) -> String {
    let mut out = String::new();
    let mut upper_next = false;
    let mut prev_lower = false;
    for c in raw.chars() {
        if !c.is_ascii_alphanumeric() {
            upper_next = !out.is_empty();
            prev_lower = false;
            continue;
        }
        if out.is_empty() {
            out.push(c.to_ascii_lowercase());
        } else if upper_next {
            out.push(c.to_ascii_uppercase());
        } else if c.is_ascii_uppercase() && !prev_lower {
            // Runs of capitals (`API`) read as one word.
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
        prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        upper_next = false;
    }
    if out.is_empty() {
        "credential".to_string()
    } else {
        out
    }
}

/// A tool prefix from a title: `GitHub v3 REST API` → `github-v3-rest-api`.
pub fn prefix_from_title(title: &str, max: usize) -> String {
    let mut out = String::new();
    for c in title.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    let mut out = out
        .trim_start_matches(|c: char| !c.is_ascii_lowercase())
        .to_string();
    out.truncate(max);
    let out = out.trim_end_matches('-').to_string();
    if out.is_empty() {
        "api".to_string()
    } else {
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_names() {
        assert_eq!(command_name("repos/get-content", 48), "repos_get_content");
        assert_eq!(command_name("getPetById", 48), "getPetById");
        assert_eq!(command_name("--", 48), "operation");
        let long = "enterprise-admin/list-selected-organizations-enabled-github-actions-enterprise";
        let a = command_name(long, 40);
        assert!(a.len() <= 40, "{a}");
        assert!(a.starts_with("enterprise_admin_list"));
        assert_ne!(a, command_name(&format!("{long}x"), 40));
        assert_eq!(derived_name("GET", "/pets/{petId}"), "get_pets_petId");
    }

    #[test]
    fn unique_names() {
        let mut names = UniqueNames::with_reserved(&[HEALTH]);
        assert_eq!(names.unique("health", 10), "health_2");
        assert_eq!(names.unique("abcdefghij", 10), "abcdefghij");
        assert_eq!(names.unique("abcdefghij", 10), "abcdefgh_2");
    }

    #[test]
    fn field_and_param_names() {
        assert_eq!(camel("petstore_auth"), "petstoreAuth");
        assert_eq!(camel("X-API-Key"), "xApiKey");
        assert_eq!(camel("ApiKeyAuth"), "apiKeyAuth");
        assert_eq!(param_name("filter[name]"), "filter_name_");
        assert_eq!(param_name("$top"), "_top");
        assert_eq!(
            prefix_from_title("GitHub v3 REST API", 40),
            "github-v3-rest-api"
        );
        assert_eq!(prefix_from_title("3D API", 40), "d-api");
        assert_eq!(prefix_from_title("", 40), "api");
    }
}
