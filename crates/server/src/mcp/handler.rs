//! The MCP server handler: one per session (2025-11-25) or per request (2026-07-28).
//! Every method finds the caller in the HTTP request rmcp hands over, asks the hub,
//! and renders the answer in MCP's shapes.

// `logging/setLevel` is deprecated by SEP-2577 for 2026-07-28 but still part of
// 2025-11-25, which most clients speak; we keep serving it.
#![allow(deprecated)]

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rmcp::model::SubscriptionFilter;
use rmcp::model::{
    CacheScope, CallToolRequestParams, CallToolResponse, CallToolResult, CompleteRequestParams,
    CompleteResult, CompletionInfo, ContentBlock, GetPromptRequestParams, GetPromptResponse,
    GetPromptResult, Implementation, ListPromptsResult, ListResourceTemplatesResult,
    ListResourcesResult, ListToolsResult, LoggingLevel, PaginatedRequestParams,
    ProgressNotificationParam, ReadResourceRequestParams, ReadResourceResponse, ReadResourceResult,
    ServerCapabilities, ServerConfig, SetLevelRequestParams, SubscribeRequestParams,
    UnsubscribeRequestParams,
};
use rmcp::service::{NotificationContext, RequestContext, SubscriptionContext};
use rmcp::{ErrorData as McpError, RoleServer, ServerHandler};
use serde_json::Value;
use switchboard_runtime::hub::{ExecuteRequest, ToolEntry, ToolIndex};
use switchboard_runtime::{
    Caller, Connector, Hub, Instance, Progress, RequestContext as CallContext,
};
use switchboard_store::model::ProfileRecord;

use super::bridge::PeerBridge;
use super::discovery;
use super::tools::{render, rendered, Naming};

/// Tools per `tools/list` page; clients follow `nextCursor` for more.
const PAGE_SIZE: usize = 500;

#[derive(Clone)]
pub struct McpFrontend {
    hub: Hub,
    /// Set for stdio and legacy SSE, where no HTTP request reaches the handler.
    fixed: Option<(Caller, Naming, Option<ProfileRecord>)>,
    log_level: Arc<Mutex<LoggingLevel>>,
    /// Resource URIs this session subscribed to (2025-11-25 `resources/subscribe`).
    subscriptions: Arc<Mutex<HashSet<String>>>,
}

impl McpFrontend {
    pub fn new(hub: Hub) -> Self {
        McpFrontend {
            hub,
            fixed: None,
            log_level: Arc::new(Mutex::new(LoggingLevel::Info)),
            subscriptions: Arc::new(Mutex::new(HashSet::new())),
        }
    }

    /// A frontend bound to one caller (and profile), for transports whose requests
    /// do not pass through rmcp's HTTP layer (stdio, legacy SSE).
    pub fn for_caller(
        hub: Hub,
        caller: Caller,
        naming: Naming,
        profile: Option<ProfileRecord>,
    ) -> Self {
        McpFrontend {
            fixed: Some((caller, naming, profile)),
            ..Self::new(hub)
        }
    }

    /// Who calls, through which profile, with which naming.
    fn scope(&self, extensions: &rmcp::model::Extensions) -> Result<Scope, McpError> {
        if let Some((caller, naming, profile)) = &self.fixed {
            return Ok(Scope {
                caller: caller.clone(),
                naming: *naming,
                profile: profile.clone(),
            });
        }
        let parts = extensions
            .get::<http::request::Parts>()
            .ok_or_else(|| McpError::internal_error("request carries no HTTP context", None))?;
        let caller = parts
            .extensions
            .get::<Caller>()
            .cloned()
            .ok_or_else(|| McpError::invalid_request("not authenticated", None))?;
        let profile = parts.extensions.get::<ProfileRecord>().cloned();
        let default_naming = profile
            .as_ref()
            .map_or(Naming::Dot, |p| Naming::from_profile(&p.naming));
        let naming = Naming::from_query(parts.uri.query()).unwrap_or(default_naming);
        Ok(Scope {
            caller,
            naming,
            profile,
        })
    }

    /// The tools in scope: the hub's discovery tools and the caller's connector tools
    /// on `/mcp`; exactly the profile's set on `/mcp/<profile>`.
    async fn tools(&self, scope: &Scope) -> Result<(Vec<ToolEntry>, Arc<ToolIndex>), McpError> {
        match &scope.profile {
            Some(p) => Ok((
                Vec::new(),
                self.hub
                    .profile_tools(&scope.caller, p)
                    .await
                    .map_err(hub_error)?,
            )),
            None => Ok((
                discovery::entries().to_vec(),
                self.hub.tools_for(&scope.caller).await.map_err(hub_error)?,
            )),
        }
    }
}

impl McpFrontend {
    /// The connectors behind the tools in scope, for their resources and prompts.
    async fn in_scope(
        &self,
        context: &RequestContext<RoleServer>,
    ) -> Result<Vec<(Instance, Arc<dyn Connector>)>, McpError> {
        let scope = self.scope(&context.extensions)?;
        let (_, index) = self.tools(&scope).await?;
        Ok(self.hub.connectors_of(&scope.caller, &index))
    }

    async fn gather(
        &self,
        context: &RequestContext<RoleServer>,
        each: impl Fn(&dyn Connector, &Instance) -> Vec<Value>,
    ) -> Result<Vec<Value>, McpError> {
        Ok(self
            .in_scope(context)
            .await?
            .iter()
            .flat_map(|(i, c)| each(c.as_ref(), i))
            .collect())
    }
}

fn from_value<T: serde::de::DeserializeOwned>(v: Value) -> Result<T, McpError> {
    serde_json::from_value(v).map_err(|e| {
        McpError::internal_error(
            format!("connector returned a malformed MCP object: {e}"),
            None,
        )
    })
}

fn from_values<T: serde::de::DeserializeOwned>(items: Vec<Value>) -> Result<Vec<T>, McpError> {
    items.into_iter().map(from_value).collect()
}

struct Scope {
    caller: Caller,
    naming: Naming,
    profile: Option<ProfileRecord>,
}

fn hub_error(e: switchboard_contract::ConnectorError) -> McpError {
    McpError::internal_error(e.message, None)
}

impl ServerHandler for McpFrontend {
    fn get_info(&self) -> ServerConfig {
        let capabilities = ServerCapabilities::builder()
            .enable_logging()
            .enable_completions()
            .enable_prompts()
            .enable_resources()
            .enable_resources_subscribe()
            .enable_tools()
            .enable_tool_list_changed()
            .build();
        let mut info = Implementation::new("switchboard", env!("CARGO_PKG_VERSION"));
        info.title = Some("Switchboard".into());
        info.description = Some("Connector hub: your team's systems as MCP tools.".into());
        ServerConfig::new(capabilities)
            .with_server_info(info)
            .with_instructions(
                "Tools are named <connector>.<command> (or <connector>_<command> with naming=underscore). \
                 Every result is an envelope {ok, data | error, meta, nextCursor}: when nextCursor is present, \
                 pass it back as `cursor` for more. Errors carry a code (invalid_input, not_found, unauthorized, \
                 forbidden, rate_limited with retryAfterMs, conflict, upstream_error, timeout, unavailable, internal). \
                 Writes accept idempotencyKey so a retry never writes twice.",
            )
    }

    async fn list_tools(
        &self,
        request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, McpError> {
        let scope = self.scope(&context.extensions)?;
        let (hub_tools, index) = self.tools(&scope).await?;
        let naming = scope.naming;
        let start = match request.and_then(|r| r.cursor) {
            None => 0,
            Some(c) => c
                .parse::<usize>()
                .ok()
                .filter(|n| *n <= hub_tools.len() + index.tools.len())
                .ok_or_else(|| McpError::invalid_params("invalid cursor for tools/list", None))?,
        };
        // The hub's discovery tools come first, then the connector tools.
        let connector_tools = rendered(&index, naming);
        let total = hub_tools.len() + connector_tools.len();
        let page: Vec<_> = hub_tools
            .iter()
            .map(|t| render(t, naming))
            .chain(connector_tools.iter().cloned())
            .skip(start)
            .take(PAGE_SIZE)
            .collect();
        let end = start + page.len();
        let mut result = ListToolsResult::with_all_items(page)
            .with_ttl_ms(0)
            .with_cache_scope(CacheScope::Private);
        if end < total {
            result.next_cursor = Some(end.to_string());
        }
        Ok(result)
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        let scope = self.scope(&context.extensions)?;
        let (hub_tools, index) = self.tools(&scope).await?;
        let mut ctx = CallContext::new(
            uuid::Uuid::now_v7().simple().to_string(),
            self.hub.settings().call_timeout,
        );
        ctx.cancel = context.ct.clone();
        if let Some(token) = context.meta.get_progress_token() {
            ctx.progress = progress_sink(context.peer.clone(), token);
        }
        ctx.client = Some(Arc::new(PeerBridge {
            peer: context.peer.clone(),
            min_level: self.log_level.clone(),
        }));
        let args = request.arguments.unwrap_or_default();
        let name = request.name.as_ref();
        let envelope = if let Some(entry) = hub_tools
            .iter()
            .find(|e| e.name == name || e.underscore_name() == name)
        {
            discovery::call(&self.hub, &scope.caller, scope.naming, entry, args).await
        } else {
            // Either spelling always works, and a bare command name within a profile.
            let entry = index.get(name).or_else(|| {
                (scope.naming == Naming::Bare)
                    .then(|| index.tools.iter().find(|t| t.command.name == name))
                    .flatten()
            });
            let Some(entry) = entry else {
                return Err(McpError::invalid_params(
                    format!("unknown tool '{name}': call tools/list to see the tools you can use"),
                    None,
                ));
            };
            let req = ExecuteRequest {
                command: Some(entry.command.name.clone()),
                params: args,
                variables: Default::default(),
            };
            self.hub
                .execute(&scope.caller, &entry.connector_id, req, Some(ctx))
                .await
        };
        if envelope.mcp_native {
            if let Some(data) = envelope.data.clone() {
                let mut result: CallToolResult = serde_json::from_value(data).map_err(|e| {
                    McpError::internal_error(
                        format!("connector returned a malformed MCP result: {e}"),
                        None,
                    )
                })?;
                result.result_type = Some(rmcp::model::ResultType::COMPLETE);
                return Ok(result.into());
            }
        }
        let value = envelope.to_value();
        let text = serde_json::to_string(&value).unwrap_or_default();
        let mut result = if envelope.ok {
            CallToolResult::success(vec![ContentBlock::text(text)])
        } else {
            CallToolResult::error(vec![ContentBlock::text(text)])
        };
        result.structured_content = Some(value);
        Ok(result.into())
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, McpError> {
        let items = self.gather(&context, |c, i| c.resources(i)).await?;
        Ok(ListResourcesResult::with_all_items(from_values(items)?)
            .with_ttl_ms(0)
            .with_cache_scope(CacheScope::Private))
    }

    async fn list_resource_templates(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, McpError> {
        let items = self
            .gather(&context, |c, i| c.resource_templates(i))
            .await?;
        Ok(
            ListResourceTemplatesResult::with_all_items(from_values(items)?)
                .with_ttl_ms(0)
                .with_cache_scope(CacheScope::Private),
        )
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, McpError> {
        for (instance, connector) in self.in_scope(&context).await? {
            if let Some(found) = connector.read_resource(&instance, &request.uri).await {
                let value = found.map_err(|e| McpError::invalid_params(e.message, None))?;
                let mut result: ReadResourceResult = from_value(value)?;
                result.result_type = Some(rmcp::model::ResultType::COMPLETE);
                return Ok(result.into());
            }
        }
        Err(McpError::resource_not_found(
            format!("no resource '{}'", request.uri),
            None,
        ))
    }

    async fn list_prompts(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListPromptsResult, McpError> {
        let items = self.gather(&context, |c, i| c.prompts(i)).await?;
        Ok(ListPromptsResult::with_all_items(from_values(items)?)
            .with_ttl_ms(0)
            .with_cache_scope(CacheScope::Private))
    }

    async fn get_prompt(
        &self,
        request: GetPromptRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<GetPromptResponse, McpError> {
        let args = request.arguments.unwrap_or_default();
        for (instance, connector) in self.in_scope(&context).await? {
            if let Some(found) = connector
                .get_prompt(&instance, &request.name, args.clone())
                .await
            {
                let value = found.map_err(|e| McpError::invalid_params(e.message, None))?;
                let mut result: GetPromptResult = from_value(value)?;
                result.result_type = Some(rmcp::model::ResultType::COMPLETE);
                return Ok(result.into());
            }
        }
        Err(McpError::invalid_params(
            format!("unknown prompt '{}': call prompts/list", request.name),
            None,
        ))
    }

    async fn complete(
        &self,
        request: CompleteRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CompleteResult, McpError> {
        let reference = serde_json::to_value(&request.r#ref).unwrap_or(Value::Null);
        let mut values = Vec::new();
        for (_, connector) in self.in_scope(&context).await? {
            values.extend(connector.complete(
                &reference,
                &request.argument.name,
                &request.argument.value,
            ));
        }
        values.truncate(CompletionInfo::MAX_VALUES);
        let info = CompletionInfo::new(values)
            .map_err(|e| McpError::internal_error(e.to_string(), None))?;
        Ok(CompleteResult::new(info))
    }

    async fn subscribe(
        &self,
        request: SubscribeRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<(), McpError> {
        if let Ok(mut subs) = self.subscriptions.lock() {
            subs.insert(request.uri);
        }
        Ok(())
    }

    async fn unsubscribe(
        &self,
        request: UnsubscribeRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<(), McpError> {
        if let Ok(mut subs) = self.subscriptions.lock() {
            subs.remove(&request.uri);
        }
        Ok(())
    }

    /// 2026-07-28 clients hear about changes on a `subscriptions/listen` stream; rmcp
    /// intersects what they ask for with the capabilities we advertise.
    fn accepted_subscription_filter(
        &self,
        requested: &SubscriptionFilter,
    ) -> Option<SubscriptionFilter> {
        Some(requested.clone())
    }

    async fn listen(&self, context: SubscriptionContext) -> Result<(), McpError> {
        use tokio::sync::broadcast::error::RecvError;
        let mut changes = self.hub.subscribe_changes();
        let wants_tools = context.accepted().tools_list_changed == Some(true);
        loop {
            tokio::select! {
                _ = context.cancelled() => return Ok(()),
                change = changes.recv() => match change {
                    Ok(()) | Err(RecvError::Lagged(_)) => {
                        if wants_tools && context.sink().notify_tool_list_changed().await.is_err() {
                            return Ok(());
                        }
                    }
                    Err(RecvError::Closed) => return Ok(()),
                },
            }
        }
    }

    async fn set_level(
        &self,
        request: SetLevelRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<(), McpError> {
        if let Ok(mut level) = self.log_level.lock() {
            *level = request.level;
        }
        Ok(())
    }

    async fn on_initialized(&self, context: NotificationContext<RoleServer>) {
        // Sessions of the 2025-11-25 revision hear about connector changes.
        let mut changes = self.hub.subscribe_changes();
        let peer = context.peer.clone();
        tokio::spawn(async move {
            use tokio::sync::broadcast::error::RecvError;
            while let Ok(()) | Err(RecvError::Lagged(_)) = changes.recv().await {
                if peer.notify_tool_list_changed().await.is_err() {
                    break;
                }
            }
        });
    }
}

/// Forwards a handler's progress to the client in order, as `notifications/progress`.
fn progress_sink(peer: rmcp::Peer<RoleServer>, token: rmcp::model::ProgressToken) -> Progress {
    let (tx, mut rx) =
        tokio::sync::mpsc::unbounded_channel::<switchboard_runtime::framework::ProgressUpdate>();
    tokio::spawn(async move {
        while let Some(u) = rx.recv().await {
            let mut p = ProgressNotificationParam::new(token.clone(), u.progress);
            p.total = u.total;
            p.message = u.message;
            if tokio::time::timeout(Duration::from_secs(5), peer.notify_progress(p))
                .await
                .is_err()
            {
                break;
            }
        }
    });
    Progress::new(move |u| {
        let _ = tx.send(u);
    })
}
