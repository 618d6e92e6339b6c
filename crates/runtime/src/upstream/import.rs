//! Reading the `mcpServers` files desktop clients use (Claude Desktop, Cursor, VS Code)
//! into `mcp` connector configs. Pure: the hub decides what to create.

use serde_json::{Map, Value};

/// One server entry of the file, ready to become a connector, or refused with why.
#[derive(Debug, Clone, PartialEq)]
pub enum ImportEntry {
    Ready {
        name: String,
        config: Map<String, Value>,
    },
    Refused {
        name: String,
        reason: String,
    },
}

/// A connector name from a file key: letters, digits, `-`, `_`, `.`; other characters
/// become `-`; at most 64 characters.
pub fn connector_name(key: &str) -> String {
    let mut name: String = key
        .trim()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '-'
            }
        })
        .collect();
    name = name
        .trim_matches(|c: char| !c.is_ascii_alphanumeric())
        .to_string();
    name.truncate(64);
    name
}

fn strings(v: Option<&Value>) -> Result<Map<String, Value>, String> {
    match v {
        None | Some(Value::Null) => Ok(Map::new()),
        Some(Value::Object(m)) => {
            let mut out = Map::new();
            for (k, v) in m {
                let s = match v {
                    Value::String(s) => s.clone(),
                    Value::Number(n) => n.to_string(),
                    Value::Bool(b) => b.to_string(),
                    _ => return Err(format!("'{k}' must be a string")),
                };
                if s.contains("${") {
                    return Err(format!(
                        "'{k}' uses a variable (${{…}}) the hub cannot resolve; put the real value in after import"
                    ));
                }
                out.insert(k.clone(), Value::String(s));
            }
            Ok(out)
        }
        Some(_) => Err("must be an object of strings".into()),
    }
}

fn entry(key: &str, server: &Value) -> ImportEntry {
    let name = connector_name(key);
    let refuse = |reason: String| ImportEntry::Refused {
        name: if name.is_empty() {
            key.to_string()
        } else {
            name.clone()
        },
        reason,
    };
    if name.is_empty() {
        return refuse("the server's name has no letters or digits".into());
    }
    let Some(server) = server.as_object() else {
        return refuse("the entry is not an object".into());
    };
    if server.get("disabled").and_then(Value::as_bool) == Some(true) {
        return refuse("the entry is disabled in the file".into());
    }
    let kind = server.get("type").and_then(Value::as_str).unwrap_or("");
    let mut config = Map::new();
    if let Some(command) = server.get("command") {
        let Some(command) = command.as_str().filter(|c| !c.trim().is_empty()) else {
            return refuse("`command` must be a non-empty string".into());
        };
        config.insert("transport".into(), "stdio".into());
        config.insert("command".into(), command.into());
        match server.get("args") {
            None | Some(Value::Null) => {}
            Some(Value::Array(a)) if a.iter().all(Value::is_string) => {
                config.insert("args".into(), Value::Array(a.clone()));
            }
            Some(_) => return refuse("`args` must be an array of strings".into()),
        }
        match strings(server.get("env")) {
            Ok(env) if !env.is_empty() => {
                config.insert("env".into(), Value::Object(env));
            }
            Ok(_) => {}
            Err(e) => return refuse(format!("env: {e}")),
        }
        if let Some(cwd) = server.get("cwd").and_then(Value::as_str) {
            config.insert("cwd".into(), cwd.into());
        }
    } else if let Some(url) = server.get("url").or_else(|| server.get("serverUrl")) {
        let Some(url) = url
            .as_str()
            .filter(|u| u.starts_with("http://") || u.starts_with("https://"))
        else {
            return refuse("`url` must be an http:// or https:// URL".into());
        };
        let transport = match kind {
            "sse" => "sse",
            "" | "http" | "streamable-http" | "streamableHttp" | "streamable_http" => {
                // Older configs name SSE endpoints by their path only.
                if kind.is_empty() && url.trim_end_matches('/').ends_with("/sse") {
                    "sse"
                } else {
                    "streamable-http"
                }
            }
            other => {
                return refuse(format!(
                    "transport type '{other}' is not one the hub speaks (stdio, http, sse)"
                ))
            }
        };
        config.insert("transport".into(), transport.into());
        config.insert("url".into(), url.into());
        match strings(server.get("headers")) {
            Ok(h) if !h.is_empty() => {
                config.insert("headers".into(), Value::Object(h));
            }
            Ok(_) => {}
            Err(e) => return refuse(format!("headers: {e}")),
        }
    } else {
        return refuse("the entry has neither `command` nor `url`".into());
    }
    ImportEntry::Ready { name, config }
}

/// The servers of a client config file: `mcpServers` (Claude Desktop, Cursor),
/// `servers` (VS Code's mcp.json) or `mcp.servers` (VS Code settings).
pub fn parse_mcp_config(doc: &Value) -> Result<Vec<ImportEntry>, String> {
    let servers = doc
        .get("mcpServers")
        .or_else(|| doc.get("servers"))
        .or_else(|| doc.get("mcp").and_then(|m| m.get("servers")))
        .ok_or("the file has no `mcpServers` (or `servers`) object")?;
    let servers = servers
        .as_object()
        .ok_or("`mcpServers` must be an object of named servers")?;
    Ok(servers.iter().map(|(k, v)| entry(k, v)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn claude_desktop_file() {
        let doc = json!({"mcpServers": {
            "everything": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-everything"]},
            "time": {"command": "uvx", "args": ["mcp-server-time"], "env": {"TZ": "UTC"}},
            "remote": {"url": "https://mcp.example.com/mcp", "headers": {"X-Key": "k"}},
            "old": {"url": "https://mcp.example.com/sse"},
            "bad args": {"command": "x", "args": "not a list"},
            "vars": {"command": "x", "env": {"TOKEN": "${input:token}"}},
            "nothing": {},
        }});
        let entries = parse_mcp_config(&doc).unwrap();
        let ready: Vec<&str> = entries
            .iter()
            .filter_map(|e| match e {
                ImportEntry::Ready { name, .. } => Some(name.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(ready, ["everything", "old", "remote", "time"]);
        let old = entries.iter().find_map(|e| match e {
            ImportEntry::Ready { name, config } if name == "old" => Some(config),
            _ => None,
        });
        assert_eq!(old.unwrap()["transport"], "sse");
        let refused: Vec<(String, String)> = entries
            .iter()
            .filter_map(|e| match e {
                ImportEntry::Refused { name, reason } => Some((name.clone(), reason.clone())),
                _ => None,
            })
            .collect();
        assert_eq!(refused.len(), 3);
        assert!(refused
            .iter()
            .any(|(n, r)| n == "bad-args" && r.contains("args")));
        assert!(refused
            .iter()
            .any(|(n, r)| n == "vars" && r.contains("variable")));
        assert!(refused
            .iter()
            .any(|(n, r)| n == "nothing" && r.contains("neither")));
    }

    #[test]
    fn vscode_file_and_errors() {
        let doc =
            json!({"servers": {"gh": {"type": "http", "url": "https://api.example.com/mcp/"}}});
        assert!(
            matches!(&parse_mcp_config(&doc).unwrap()[0], ImportEntry::Ready { config, .. } if config["transport"] == "streamable-http")
        );
        assert!(parse_mcp_config(&json!({"other": 1}))
            .unwrap_err()
            .contains("mcpServers"));
        assert!(parse_mcp_config(&json!({"mcpServers": []})).is_err());
        assert_eq!(connector_name("  My Server! "), "My-Server");
    }
}
