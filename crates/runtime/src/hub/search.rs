//! `switchboard.tools.search`: the few tools that fit a task in words, so an agent
//! need not load hundreds of schemas. A lexical ranking over names, descriptions
//! and parameter names; good enough until embeddings earn their keep.

use super::tools::{ToolEntry, ToolIndex};

const STOPWORDS: &[&str] = &[
    "a", "an", "the", "to", "of", "in", "on", "for", "and", "or", "by", "with", "from", "my", "me",
    "i", "all", "some", "any", "is", "are", "be", "please", "can", "you", "that", "this", "it",
    "into", "at", "as",
];

fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| w.to_ascii_lowercase())
        .filter(|w| !STOPWORDS.contains(&w.as_str()))
        .collect()
}

/// Whether two words are the same for ranking: equal, or one a stem of the other
/// ("issues" and "issue", "search" and "searching").
fn matches(a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    short.len() >= 4 && long.starts_with(short)
        || (short.len() >= 3 && long.len() - short.len() <= 2 && long.starts_with(short))
}

fn field_score(query: &[String], field: &[String], weight: u32) -> u32 {
    query
        .iter()
        .filter(|q| field.iter().any(|w| matches(q, w)))
        .count() as u32
        * weight
}

/// Scores one tool for the query words; zero means unrelated.
pub fn score(query: &[String], t: &ToolEntry) -> u32 {
    let name = words(&t.name);
    let connector = words(&format!(
        "{} {} {}",
        t.connector_name, t.type_id, t.connector_description
    ));
    let description = words(&t.command.description);
    let params = words(
        &t.command
            .params
            .iter()
            .map(|p| p.name.as_str())
            .collect::<Vec<_>>()
            .join(" "),
    );
    let s = field_score(query, &name, 5)
        + field_score(query, &connector, 3)
        + field_score(query, &description, 2)
        + field_score(query, &params, 1);
    // A deprecated command ranks below an equal live one.
    if t.command.deprecation.deprecated {
        s.saturating_sub(1)
    } else {
        s
    }
}

/// The best `limit` tools for `task`, best first; ties keep the index's order.
pub fn search<'a>(index: &'a ToolIndex, task: &str, limit: usize) -> Vec<&'a ToolEntry> {
    let query = words(task);
    if query.is_empty() {
        return Vec::new();
    }
    let mut scored: Vec<(u32, usize, &ToolEntry)> = index
        .tools
        .iter()
        .enumerate()
        .map(|(i, t)| (score(&query, t), i, t))
        .filter(|(s, _, _)| *s > 0)
        .collect();
    scored.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    scored.into_iter().take(limit).map(|(_, _, t)| t).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchboard_contract::{Access, CommandSpec, FieldSpec};

    fn entry(prefix: &str, command: &str, description: &str, params: &[&str]) -> ToolEntry {
        let mut c = CommandSpec::new(command, Access::Read, description);
        c.params = params.iter().map(|p| FieldSpec::string(*p)).collect();
        ToolEntry {
            name: format!("{prefix}.{command}"),
            connector_id: prefix.into(),
            connector_name: prefix.into(),
            connector_description: String::new(),
            type_id: prefix.into(),
            command: c,
        }
    }

    #[test]
    fn ranks_the_fitting_tool_first() {
        let index = ToolIndex::from_tools(vec![
            entry("jira", "search_issues", "Search issues with JQL", &["jql"]),
            entry(
                "jira",
                "create_issue",
                "Create an issue in a project",
                &["projectKey"],
            ),
            entry("github", "list_repos", "List repositories", &[]),
            entry(
                "directory",
                "lookup",
                "Find one employee by id or email",
                &["id", "email"],
            ),
        ]);
        let found = search(&index, "find the employee with this email", 2);
        assert_eq!(found[0].name, "directory.lookup");
        let found = search(&index, "search jira issues", 3);
        assert_eq!(found[0].name, "jira.search_issues");
        assert!(search(&index, "the of and", 5).is_empty());
        assert!(search(&index, "weather forecast", 5).is_empty());
    }
}
