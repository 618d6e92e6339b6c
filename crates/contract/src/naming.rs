//! Tool and prefix naming rules (SPEC sections 2 and 5).

/// Tool names stay within what every client accepts.
pub const MAX_TOOL_NAME: usize = 64;
pub const MAX_PREFIX: usize = 40;

/// A tool prefix: lower-case letters, digits, `_` and `-`, starting with a letter.
pub fn validate_prefix(prefix: &str) -> Result<(), String> {
    let ok_chars = prefix
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    let starts_with_letter = prefix
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase());
    if prefix.is_empty() || prefix.len() > MAX_PREFIX || !ok_chars || !starts_with_letter {
        return Err(format!(
            "tool prefix '{prefix}' is invalid: use 1 to {MAX_PREFIX} lower-case letters, digits, '-' or '_', starting with a letter"
        ));
    }
    if prefix.ends_with('-') || prefix.contains("--") {
        return Err(format!(
            "tool prefix '{prefix}' is invalid: '-' must separate two non-empty parts"
        ));
    }
    Ok(())
}

/// A command name: `[A-Za-z0-9_-]`, no dots (the dot separates prefix and command).
pub fn validate_command_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= MAX_TOOL_NAME
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "command name '{name}' is invalid: use 1 to {MAX_TOOL_NAME} characters from A-Z, a-z, 0-9, '_' and '-'"
        ))
    }
}

/// `<prefix>.<command>`, refused when over the length limit.
pub fn tool_name(prefix: &str, command: &str) -> Result<String, String> {
    let name = format!("{prefix}.{command}");
    if name.len() > MAX_TOOL_NAME {
        return Err(format!(
            "tool name '{name}' is {} characters long; the limit is {MAX_TOOL_NAME}: choose a shorter prefix",
            name.len()
        ));
    }
    Ok(name)
}

/// A connector's prefix must be the catalog's, or `<catalog prefix>-<suffix>`.
pub fn validate_instance_prefix(prefix: &str, catalog_prefix: &str) -> Result<(), String> {
    validate_prefix(prefix)?;
    if prefix == catalog_prefix {
        return Ok(());
    }
    match prefix.strip_prefix(catalog_prefix).and_then(|rest| rest.strip_prefix('-')) {
        Some(suffix) if !suffix.is_empty() => Ok(()),
        _ => Err(format!(
            "tool prefix '{prefix}' must be the catalog prefix '{catalog_prefix}' or '{catalog_prefix}-<suffix>'"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes() {
        assert!(validate_prefix("jira").is_ok());
        assert!(validate_prefix("jira-prod").is_ok());
        assert!(validate_prefix("Jira").is_err());
        assert!(validate_prefix("1jira").is_err());
        assert!(validate_prefix("jira.x").is_err());
        assert!(validate_prefix("jira-").is_err());
        assert!(validate_prefix("").is_err());
        assert!(validate_prefix(&"a".repeat(41)).is_err());
    }

    #[test]
    fn instance_prefixes() {
        assert!(validate_instance_prefix("jira", "jira").is_ok());
        assert!(validate_instance_prefix("jira-prod", "jira").is_ok());
        assert!(validate_instance_prefix("jiraprod", "jira").is_err());
        assert!(validate_instance_prefix("github", "jira").is_err());
    }

    #[test]
    fn tool_names() {
        assert_eq!(
            tool_name("jira", "search_issues").as_deref(),
            Ok("jira.search_issues")
        );
        assert!(tool_name(&"a".repeat(40), &"b".repeat(30)).is_err());
        assert!(validate_command_name("search_issues").is_ok());
        assert!(validate_command_name("a.b").is_err());
        assert!(validate_command_name("").is_err());
    }
}
