//! `conformance`: the fixture tools, resources and prompts the official MCP
//! conformance suite's server scenarios call, with the exact results each scenario
//! describes. Compiled in, but registered only when `SWITCHBOARD_TEST_CONNECTORS=1`,
//! and served through an anonymous profile with naming `none` (`serve --conformance-profile`).
//!
//! Unlike the other built-ins it implements `Connector` directly: its results are
//! MCP-native (images, audio, embedded resources) and it offers resources and prompts.

use std::time::Duration;

use futures::future::BoxFuture;
use serde_json::{json, Map, Value};
use switchboard_contract::{
    fail, succeed, Access, CommandSpec, ConnectorError, ConnectorSpec, ExecutionModel, FieldSpec,
    Outcome, Success,
};
use switchboard_runtime::{Call, Connector, Instance};

/// A 1x1 red PNG.
const PNG: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==";
/// A WAV header with no samples: 8 kHz, 8-bit mono.
const WAV: &str = "UklGRiQAAABXQVZFZm10IBAAAAABAAEAQB8AAEAfAAABAAgAZGF0YQAAAAA=";

pub struct Conformance {
    spec: ConnectorSpec,
}

pub fn definition() -> Conformance {
    let read = |name: &str, description: &str| {
        CommandSpec::new(name, Access::Read, description)
            .mock_payload("default", json!({"content": []}))
    };
    let commands = vec![
        read("health", "Always healthy."),
        read("test_simple_text", "Returns simple text."),
        read("test_image_content", "Returns an image."),
        read("test_audio_content", "Returns audio."),
        read("test_embedded_resource", "Returns an embedded resource."),
        read("test_multiple_content_types", "Returns text, an image and a resource."),
        read("test_tool_with_logging", "Sends three log messages while running."),
        read("test_tool_with_progress", "Reports progress 0, 50 and 100 of 100."),
        read("test_error_handling", "Always fails."),
        read("test_sampling", "Asks the client's LLM to answer a prompt.")
            .param(FieldSpec::string("prompt").required().describe("The prompt to send to the LLM.")),
        read("test_elicitation", "Asks the user for a username and email.")
            .param(FieldSpec::string("message").required().describe("The message to show the user.")),
        read("test_elicitation_sep1034_defaults", "Elicitation with defaults for every primitive type."),
        read("test_elicitation_sep1330_enums", "Elicitation with every enum variant."),
        read("json_schema_2020_12_tool", "Tool with JSON Schema 2020-12 features")
            .param(FieldSpec::string("name"))
            .param(FieldSpec::json("address"))
            .raw_input_schema(json!({
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "type": "object",
                "$defs": {"address": {"type": "object", "properties": {"street": {"type": "string"}, "city": {"type": "string"}}}},
                "properties": {"name": {"type": "string"}, "address": {"$ref": "#/$defs/address"}},
                "additionalProperties": false
            })),
    ];
    Conformance {
        spec: ConnectorSpec {
            name: "conformance".into(),
            version: "1.0.0".into(),
            description:
                "Fixture for the MCP conformance suite's server scenarios (test builds only)."
                    .into(),
            category: Some("testing".into()),
            tags: vec!["testing".into()],
            tool_prefix: "conformance".into(),
            execution_model: ExecutionModel::BuiltIn,
            scopes: Vec::new(),
            requires_oauth: false,
            oauth_provider: None,
            docs_url: None,
            config: Vec::new(),
            default_command: None,
            commands,
        },
    }
}

fn text(t: &str) -> Outcome {
    Ok(Success::mcp_native(
        json!({"content": [{"type": "text", "text": t}]}),
    ))
}

fn native(content: Value) -> Outcome {
    Ok(Success::mcp_native(json!({"content": content})))
}

async fn run(command: String, call: Call) -> Outcome {
    match command.as_str() {
        "health" => succeed(json!({"ok": true})),
        "test_simple_text" => text("This is a simple text response for testing."),
        "test_image_content" => {
            native(json!([{"type": "image", "data": PNG, "mimeType": "image/png"}]))
        }
        "test_audio_content" => {
            native(json!([{"type": "audio", "data": WAV, "mimeType": "audio/wav"}]))
        }
        "test_embedded_resource" => native(json!([{"type": "resource", "resource": {
            "uri": "test://embedded-resource", "mimeType": "text/plain", "text": "This is an embedded resource content."}}])),
        "test_multiple_content_types" => native(json!([
            {"type": "text", "text": "Multiple content types test:"},
            {"type": "image", "data": PNG, "mimeType": "image/png"},
            {"type": "resource", "resource": {"uri": "test://mixed-content-resource", "mimeType": "application/json",
                "text": "{\"test\":\"data\",\"value\":123}"}}
        ])),
        "test_tool_with_logging" => {
            let client = call.ctx.client()?.clone();
            client.log("info", json!("Tool execution started")).await;
            tokio::time::sleep(Duration::from_millis(50)).await;
            client.log("info", json!("Tool processing data")).await;
            tokio::time::sleep(Duration::from_millis(50)).await;
            client.log("info", json!("Tool execution completed")).await;
            text("Tool with logging executed successfully")
        }
        "test_tool_with_progress" => {
            for (i, step) in [0.0, 50.0, 100.0].into_iter().enumerate() {
                if i > 0 {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                call.ctx.progress.report(step, Some(100.0), None);
            }
            // Let the last notification leave before the result.
            tokio::time::sleep(Duration::from_millis(20)).await;
            text("Tool with progress executed successfully")
        }
        "test_error_handling" => Ok(Success::mcp_native(json!({
            "isError": true,
            "content": [{"type": "text", "text": "This tool intentionally returns an error for testing"}]
        }))),
        "test_sampling" => {
            let prompt = call.str_param("prompt").unwrap_or_default().to_string();
            let result = call
                .ctx
                .client()?
                .create_message(json!({
                    "messages": [{"role": "user", "content": {"type": "text", "text": prompt}}],
                    "maxTokens": 100
                }))
                .await?;
            let answer = result["content"]["text"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            text(&format!("LLM response: {answer}"))
        }
        "test_elicitation" => {
            let message = call.str_param("message").unwrap_or_default().to_string();
            let result = call
                .ctx
                .client()?
                .elicit(json!({
                    "message": message,
                    "requestedSchema": {"type": "object", "properties": {
                        "username": {"type": "string", "description": "User's response"},
                        "email": {"type": "string", "description": "User's email address"}
                    }, "required": ["username", "email"]}
                }))
                .await?;
            text(&format!(
                "User response: action={}, content={}",
                result["action"].as_str().unwrap_or(""),
                result.get("content").cloned().unwrap_or(Value::Null)
            ))
        }
        "test_elicitation_sep1034_defaults" => {
            let result = call
                .ctx
                .client()?
                .elicit(json!({
                    "message": "Please review and update the form fields with defaults",
                    "requestedSchema": {"type": "object", "properties": {
                        "name": {"type": "string", "description": "User name", "default": "John Doe"},
                        "age": {"type": "integer", "description": "User age", "default": 30},
                        "score": {"type": "number", "description": "User score", "default": 95.5},
                        "status": {"type": "string", "description": "User status", "enum": ["active", "inactive", "pending"], "default": "active"},
                        "verified": {"type": "boolean", "description": "Verification status", "default": true}
                    }}
                }))
                .await?;
            elicitation_done(&result)
        }
        "test_elicitation_sep1330_enums" => {
            let result = call
                .ctx
                .client()?
                .elicit(json!({
                    "message": "Please select options from the enum fields",
                    "requestedSchema": {"type": "object", "properties": {
                        "untitledSingle": {"type": "string", "description": "Select one option", "enum": ["option1", "option2", "option3"]},
                        "titledSingle": {"type": "string", "description": "Select one option with titles", "oneOf": [
                            {"const": "value1", "title": "First Option"}, {"const": "value2", "title": "Second Option"}, {"const": "value3", "title": "Third Option"}]},
                        "legacyEnum": {"type": "string", "description": "Select one option (legacy)", "enum": ["opt1", "opt2", "opt3"],
                            "enumNames": ["Option One", "Option Two", "Option Three"]},
                        "untitledMulti": {"type": "array", "description": "Select multiple options", "items": {"type": "string", "enum": ["option1", "option2", "option3"]}},
                        "titledMulti": {"type": "array", "description": "Select multiple options with titles", "items": {"anyOf": [
                            {"const": "value1", "title": "First Choice"}, {"const": "value2", "title": "Second Choice"}, {"const": "value3", "title": "Third Choice"}]}}
                    }}
                }))
                .await?;
            elicitation_done(&result)
        }
        "json_schema_2020_12_tool" => {
            text(&format!("Received: {}", Value::Object(call.params.clone())))
        }
        other => fail(ConnectorError::internal(format!(
            "fixture has no command '{other}'"
        ))),
    }
}

fn elicitation_done(result: &Value) -> Outcome {
    text(&format!(
        "Elicitation completed: action={}, content={}",
        result["action"].as_str().unwrap_or(""),
        result.get("content").cloned().unwrap_or(Value::Null)
    ))
}

impl Connector for Conformance {
    fn spec(&self) -> &ConnectorSpec {
        &self.spec
    }

    fn run(&self, command: &str, call: Call) -> BoxFuture<'static, Outcome> {
        Box::pin(run(command.to_string(), call))
    }

    fn resources(&self, _instance: &Instance) -> Vec<Value> {
        vec![
            json!({"uri": "test://static-text", "name": "static-text", "description": "A static text resource", "mimeType": "text/plain"}),
            json!({"uri": "test://static-binary", "name": "static-binary", "description": "A static binary resource (PNG)", "mimeType": "image/png"}),
            json!({"uri": "test://watched-resource", "name": "watched-resource", "description": "A resource to subscribe to", "mimeType": "text/plain"}),
        ]
    }

    fn resource_templates(&self, _instance: &Instance) -> Vec<Value> {
        vec![
            json!({"uriTemplate": "test://template/{id}/data", "name": "template-data", "description": "Data for an id", "mimeType": "application/json"}),
        ]
    }

    fn read_resource(
        &self,
        _instance: &Instance,
        uri: &str,
    ) -> BoxFuture<'static, Option<Result<Value, ConnectorError>>> {
        let contents = match uri {
            "test://static-text" => Some(json!({"uri": uri, "mimeType": "text/plain", "text": "This is the content of the static text resource."})),
            "test://static-binary" => Some(json!({"uri": uri, "mimeType": "image/png", "blob": PNG})),
            "test://watched-resource" => Some(json!({"uri": uri, "mimeType": "text/plain", "text": "Watched resource content."})),
            _ => uri
                .strip_prefix("test://template/")
                .and_then(|rest| rest.strip_suffix("/data"))
                .filter(|id| !id.is_empty() && !id.contains('/'))
                .map(|id| {
                    let body = json!({"id": id, "templateTest": true, "data": format!("Data for ID: {id}")});
                    json!({"uri": uri, "mimeType": "application/json", "text": body.to_string()})
                }),
        };
        Box::pin(async move { contents.map(|c| Ok(json!({"contents": [c]}))) })
    }

    fn prompts(&self, _instance: &Instance) -> Vec<Value> {
        vec![
            json!({"name": "test_simple_prompt", "description": "A simple prompt without arguments"}),
            json!({"name": "test_prompt_with_arguments", "description": "A prompt with arguments", "arguments": [
                {"name": "arg1", "description": "First test argument", "required": true},
                {"name": "arg2", "description": "Second test argument", "required": true}]}),
            json!({"name": "test_prompt_with_embedded_resource", "description": "A prompt with an embedded resource", "arguments": [
                {"name": "resourceUri", "description": "URI of the resource to embed", "required": true}]}),
            json!({"name": "test_prompt_with_image", "description": "A prompt with an image"}),
        ]
    }

    fn get_prompt(
        &self,
        _instance: &Instance,
        name: &str,
        args: Map<String, Value>,
    ) -> BoxFuture<'static, Option<Result<Value, ConnectorError>>> {
        let arg = |k: &str| args.get(k).and_then(Value::as_str).map(str::to_string);
        let missing = |k: &str| {
            Some(Err(ConnectorError::invalid_input(format!(
                "missing required argument '{k}'"
            ))))
        };
        let result = match name {
            "test_simple_prompt" => Some(Ok(json!({"messages": [
                {"role": "user", "content": {"type": "text", "text": "This is a simple prompt for testing."}}]}))),
            "test_prompt_with_arguments" => match (arg("arg1"), arg("arg2")) {
                (Some(a), Some(b)) => Some(Ok(
                    json!({"messages": [{"role": "user", "content": {"type": "text",
                    "text": format!("Prompt with arguments: arg1='{a}', arg2='{b}'")}}]}),
                )),
                (None, _) => missing("arg1"),
                _ => missing("arg2"),
            },
            "test_prompt_with_embedded_resource" => match arg("resourceUri") {
                Some(uri) => Some(Ok(json!({"messages": [
                    {"role": "user", "content": {"type": "resource", "resource": {"uri": uri, "mimeType": "text/plain", "text": "Embedded resource content for testing."}}},
                    {"role": "user", "content": {"type": "text", "text": "Please process the embedded resource above."}}]}))),
                None => missing("resourceUri"),
            },
            "test_prompt_with_image" => Some(Ok(json!({"messages": [
                {"role": "user", "content": {"type": "image", "data": PNG, "mimeType": "image/png"}},
                {"role": "user", "content": {"type": "text", "text": "Please analyze the image above."}}]}))),
            _ => None,
        };
        Box::pin(async move { result })
    }

    fn complete(&self, _reference: &Value, _argument: &str, value: &str) -> Vec<String> {
        ["paris", "park", "party"]
            .iter()
            .filter(|s| s.starts_with(value))
            .map(|s| s.to_string())
            .collect()
    }
}
