//! Profiles: `/mcp/<name>` endpoints that expose a chosen subset of a tenant's tools,
//! with their own naming mode, optionally to anonymous callers.

use std::collections::HashSet;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use switchboard_contract::{ConnectorError, ErrorCode};
use switchboard_store::model::{ProfileRecord, Role};

use super::connectors::rfc3339;
use super::tools::{ToolEntry, ToolIndex};
use super::{store_error, Caller, Hub};

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfileInput {
    /// The URL segment: `/mcp/<name>`.
    pub name: String,
    /// Connector ids or names; empty for all of the tenant's shared connectors.
    #[serde(default)]
    pub connectors: Vec<String>,
    /// Glob patterns over dotted tool names (`directory.*`, `*.lookup`); empty for all.
    #[serde(default)]
    pub tools: Vec<String>,
    /// `dot` (default), `underscore`, or `none` (bare command names; refused if they collide).
    #[serde(default)]
    pub naming: Option<String>,
    /// Admit callers without an API key. Refused for connectors with secrets or write
    /// tools unless `force` is set.
    #[serde(default)]
    pub anonymous: bool,
    #[serde(default)]
    pub force: bool,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProfileView {
    pub id: String,
    pub name: String,
    pub connectors: Vec<String>,
    pub tools: Vec<String>,
    pub naming: String,
    pub anonymous: bool,
    /// Where MCP clients connect, relative to the hub's base URL.
    pub path: String,
    /// The tools the profile serves now, as clients see them.
    pub tool_names: Vec<String>,
    pub created_at: String,
    pub updated_at: String,
}

/// Matches `*` (any run) and `?` (one character). Hand-written: tool names are
/// short and the two wildcards are all a profile needs.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

fn validate_profile_name(name: &str) -> Result<(), ConnectorError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(ConnectorError::invalid_input(format!(
            "profile name '{name}' is invalid: use 1 to 64 lower-case letters, digits, '-' or '_' (it becomes the URL /mcp/{name})"
        )))
    }
}

impl Hub {
    /// The caller an anonymous request to this profile runs as: the profile's tenant,
    /// a user no personal connector belongs to, no key.
    pub fn anonymous_caller(profile: &ProfileRecord) -> Caller {
        Caller {
            tenant_id: profile.tenant_id.clone(),
            user_id: format!("anonymous:{}", profile.id),
            key_id: None,
            role: Role::Member,
            platform_admin: false,
        }
    }

    /// The profile's tools for this caller, filtered by its connectors and patterns.
    pub async fn profile_tools(
        &self,
        caller: &Caller,
        profile: &ProfileRecord,
    ) -> Result<Arc<ToolIndex>, ConnectorError> {
        let all = self.tools_for(caller).await?;
        let wanted: HashSet<&str> = profile.connectors.iter().map(String::as_str).collect();
        let tools: Vec<ToolEntry> = all
            .tools
            .iter()
            .filter(|t| {
                wanted.is_empty()
                    || wanted.contains(t.connector_id.as_str())
                    || wanted.contains(t.connector_name.as_str())
            })
            .filter(|t| {
                profile.tools.is_empty() || profile.tools.iter().any(|p| glob_match(p, &t.name))
            })
            .cloned()
            .collect();
        Ok(Arc::new(ToolIndex::from_tools(tools)))
    }

    async fn check_profile(
        &self,
        caller: &Caller,
        input: &ProfileInput,
    ) -> Result<ProfileRecord, ConnectorError> {
        validate_profile_name(&input.name)?;
        let naming = input.naming.clone().unwrap_or_else(|| "dot".into());
        if !["dot", "underscore", "none"].contains(&naming.as_str()) {
            return Err(ConnectorError::invalid_input(format!(
                "naming '{naming}' is invalid: use dot, underscore or none"
            )));
        }
        for p in &input.tools {
            if p.is_empty()
                || p.len() > 128
                || !p
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "._-*?".contains(c))
            {
                return Err(ConnectorError::invalid_input(format!(
                    "tool pattern '{p}' is invalid: use tool-name characters with * and ? wildcards"
                )));
            }
        }
        let shared = self
            .store()
            .list_connectors(&caller.tenant_id, &caller.user_id)
            .await
            .map_err(store_error)?;
        let shared: Vec<_> = shared
            .into_iter()
            .filter(|c| c.owner_user_id.is_none())
            .collect();
        for c in &input.connectors {
            if !shared.iter().any(|s| &s.id == c || &s.name == c) {
                return Err(ConnectorError::invalid_input(format!(
                    "profile connector '{c}' is not a shared connector of this tenant (personal connectors cannot be in a profile)"
                )));
            }
        }
        let draft = ProfileRecord {
            id: String::new(),
            tenant_id: caller.tenant_id.clone(),
            name: input.name.clone(),
            connectors: input.connectors.clone(),
            tools: input.tools.clone(),
            naming,
            anonymous: input.anonymous,
            created_by: caller.user_id.clone(),
            created_at: 0,
            updated_at: 0,
        };
        // What the profile serves, as an anonymous caller would see it.
        let probe = Caller {
            user_id: "profile-check".into(),
            ..caller.clone()
        };
        let tools = self.profile_tools(&probe, &draft).await?;
        if draft.naming == "none" {
            let mut seen = HashSet::new();
            for t in &tools.tools {
                if !seen.insert(t.command.name.as_str()) {
                    return Err(ConnectorError::invalid_input(format!(
                        "naming 'none' is impossible: more than one connector has a '{}' tool; narrow the profile or use dot naming",
                        t.command.name
                    )));
                }
            }
        }
        if draft.anonymous {
            let writes: Vec<&str> = tools
                .tools
                .iter()
                .filter(|t| t.command.is_write())
                .map(|t| t.name.as_str())
                .collect();
            let mut with_secrets = Vec::new();
            for id in tools
                .tools
                .iter()
                .map(|t| t.connector_id.as_str())
                .collect::<HashSet<_>>()
            {
                let secrets = self
                    .store()
                    .connector_secrets(&caller.tenant_id, id)
                    .await
                    .map_err(store_error)?;
                if !secrets.is_empty() {
                    with_secrets.push(id.to_string());
                }
            }
            if (!writes.is_empty() || !with_secrets.is_empty()) && !input.force {
                return Err(ConnectorError::new(
                    ErrorCode::Forbidden,
                    format!(
                        "refusing an anonymous profile: anyone could use {}{}; narrow the profile, or pass force: true if you really mean it",
                        if writes.is_empty() { String::new() } else { format!("write tools ({}) ", writes.join(", ")) },
                        if with_secrets.is_empty() { String::new() } else { "connectors holding credentials".to_string() }
                    ),
                ));
            }
            tracing::warn!(
                profile = %draft.name,
                tenant = %draft.tenant_id,
                tools = tools.tools.len(),
                forced = input.force,
                "ANONYMOUS MCP PROFILE: /mcp/{} answers callers without any API key",
                draft.name
            );
        }
        Ok(draft)
    }

    fn profile_view(&self, p: ProfileRecord, tools: &ToolIndex) -> ProfileView {
        let tool_names = tools
            .tools
            .iter()
            .map(|t| match p.naming.as_str() {
                "none" => t.command.name.clone(),
                "underscore" => t.underscore_name(),
                _ => t.name.clone(),
            })
            .collect();
        ProfileView {
            path: format!("/mcp/{}", p.name),
            id: p.id,
            name: p.name,
            connectors: p.connectors,
            tools: p.tools,
            naming: p.naming,
            anonymous: p.anonymous,
            tool_names,
            created_at: rfc3339(p.created_at),
            updated_at: rfc3339(p.updated_at),
        }
    }

    pub async fn create_profile(
        &self,
        caller: &Caller,
        input: ProfileInput,
    ) -> Result<ProfileView, ConnectorError> {
        caller.require_admin("creating a profile")?;
        let draft = self.check_profile(caller, &input).await?;
        self.save_profile(caller, draft, "profile.create").await
    }

    pub async fn replace_profile(
        &self,
        caller: &Caller,
        id: &str,
        input: ProfileInput,
    ) -> Result<ProfileView, ConnectorError> {
        caller.require_admin("changing a profile")?;
        let existing = self.get_profile_record(caller, id).await?;
        let mut draft = self.check_profile(caller, &input).await?;
        draft.id = existing.id;
        draft.created_at = existing.created_at;
        draft.created_by = existing.created_by;
        self.save_profile(caller, draft, "profile.update").await
    }

    /// Stores a checked profile, audits the change, and answers with its view.
    async fn save_profile(
        &self,
        caller: &Caller,
        draft: ProfileRecord,
        action: &str,
    ) -> Result<ProfileView, ConnectorError> {
        let saved = self
            .store()
            .save_profile(&draft)
            .await
            .map_err(store_error)?;
        self.audit_change(
            caller,
            action,
            "profile",
            &saved.id,
            serde_json::json!({"name": saved.name, "anonymous": saved.anonymous}),
        );
        let tools = self.profile_tools(caller, &saved).await?;
        Ok(self.profile_view(saved, &tools))
    }

    pub async fn get_profile_record(
        &self,
        caller: &Caller,
        id_or_name: &str,
    ) -> Result<ProfileRecord, ConnectorError> {
        self.store()
            .get_profile(&caller.tenant_id, id_or_name)
            .await
            .map_err(store_error)?
            .ok_or_else(|| {
                ConnectorError::not_found(format!("no profile '{id_or_name}' in this tenant"))
            })
    }

    pub async fn get_profile(
        &self,
        caller: &Caller,
        id_or_name: &str,
    ) -> Result<ProfileView, ConnectorError> {
        let p = self.get_profile_record(caller, id_or_name).await?;
        let tools = self.profile_tools(caller, &p).await?;
        Ok(self.profile_view(p, &tools))
    }

    pub async fn list_profiles(&self, caller: &Caller) -> Result<Vec<ProfileView>, ConnectorError> {
        let mut out = Vec::new();
        for p in self
            .store()
            .list_profiles(&caller.tenant_id)
            .await
            .map_err(store_error)?
        {
            let tools = self.profile_tools(caller, &p).await?;
            out.push(self.profile_view(p, &tools));
        }
        Ok(out)
    }

    pub async fn delete_profile(
        &self,
        caller: &Caller,
        id_or_name: &str,
    ) -> Result<(), ConnectorError> {
        caller.require_admin("deleting a profile")?;
        let p = self.get_profile_record(caller, id_or_name).await?;
        self.store()
            .delete_profile(&caller.tenant_id, &p.id)
            .await
            .map_err(store_error)?;
        self.audit_change(
            caller,
            "profile.delete",
            "profile",
            &p.id,
            serde_json::json!({"name": p.name}),
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::glob_match;

    #[test]
    fn globs() {
        assert!(glob_match("directory.*", "directory.lookup"));
        assert!(glob_match("*.lookup", "directory.lookup"));
        assert!(glob_match("dir?ctory.l*p", "directory.lookup"));
        assert!(glob_match("*", "x"));
        assert!(!glob_match("directory.*", "jira.lookup"));
        assert!(!glob_match("*.list", "directory.lookup"));
        assert!(glob_match("a*b*c", "aXXbYYc"));
        assert!(!glob_match("a*b*c", "aXXbYY"));
    }
}
