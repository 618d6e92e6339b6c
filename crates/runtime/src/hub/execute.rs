//! Running a command of a configured connector: the path every tool call takes.

use serde::Deserialize;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use switchboard_contract::standard::{IDEMPOTENCY_KEY, REQUEST_ID};
use switchboard_contract::{ConnectorError, Envelope, ErrorCode, Meta};
use switchboard_store::model::{IdempotencyBegin, NewAuditEntry};

use super::{store_error, Caller, Hub};

/// The config field a connector reads its OAuth access token from (interfaces.md).
pub const ACCESS_TOKEN: &str = "accessToken";
use crate::dispatcher::{dispatch, resolve_command, Dispatch};
use crate::framework::{Instance, RequestContext};

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExecuteRequest {
    /// The command; the type's default command when left out.
    pub command: Option<String>,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub params: Map<String, Value>,
    /// A workflow's variable bag, readable by the handler.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub variables: Map<String, Value>,
}

fn new_request_id() -> String {
    uuid::Uuid::now_v7().simple().to_string()
}

/// A stable hash of the params that matter, so a reused key with other params is caught.
fn request_hash(command: &str, params: &Map<String, Value>) -> String {
    let mut relevant = params.clone();
    relevant.remove(REQUEST_ID);
    relevant.remove(IDEMPOTENCY_KEY);
    // serde_json's Map is ordered (BTreeMap), so this serialization is canonical.
    let body = serde_json::to_string(&(command, relevant)).unwrap_or_default();
    hex(&Sha256::digest(body.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn error_envelope(error: ConnectorError, request_id: String) -> Envelope {
    Envelope::failure(
        error,
        Meta {
            request_id,
            ..Meta::default()
        },
    )
}

impl Hub {
    /// Runs a command for the caller and always answers with an envelope; errors
    /// about the connector itself (unknown, disabled) are envelopes too.
    pub async fn execute(
        &self,
        caller: &Caller,
        connector: &str,
        req: ExecuteRequest,
        ctx: Option<RequestContext>,
    ) -> Envelope {
        let started = std::time::Instant::now();
        let ctx = ctx
            .unwrap_or_else(|| RequestContext::new(new_request_id(), self.settings().call_timeout));
        let request_id = req
            .params
            .get(REQUEST_ID)
            .and_then(Value::as_str)
            .map_or_else(|| ctx.request_id.clone(), str::to_string);
        let (envelope, connector_id, command) =
            match self.execute_inner(caller, connector, req, ctx).await {
                Ok(done) => done,
                Err((e, connector_id, command)) => {
                    (error_envelope(e, request_id), connector_id, command)
                }
            };
        self.audit().record(NewAuditEntry {
            tenant_id: caller.tenant_id.clone(),
            actor_user_id: Some(caller.user_id.clone()),
            actor_key_id: caller.key_id.clone(),
            action: "connector.execute".into(),
            target_kind: "connector".into(),
            target_id: connector_id.clone(),
            connector_id,
            command,
            outcome: if envelope.ok { "ok" } else { "error" }.into(),
            error_code: envelope.error.as_ref().map(|e| e.code.as_str().to_string()),
            duration_ms: Some(started.elapsed().as_millis() as i64),
            detail: Some(serde_json::json!({"requestId": envelope.meta.request_id, "replayed": envelope.meta.replayed})),
        });
        envelope
    }

    #[allow(clippy::type_complexity)]
    async fn execute_inner(
        &self,
        caller: &Caller,
        connector: &str,
        req: ExecuteRequest,
        ctx: RequestContext,
    ) -> Result<
        (Envelope, Option<String>, Option<String>),
        (ConnectorError, Option<String>, Option<String>),
    > {
        let loaded = self
            .loaded_connector(caller, connector)
            .await
            .map_err(|e| (e, None, None))?;
        let record = &loaded.record;
        let id = Some(record.id.clone());
        let fail = |e: ConnectorError, cmd: Option<String>| (e, id.clone(), cmd);
        if !record.enabled {
            return Err(fail(
                ConnectorError::unavailable(format!(
                    "connector '{}' is disabled; enable it to use its tools",
                    record.name
                )),
                req.command.clone(),
            ));
        }
        let executor = self
            .executor(&record.type_id)
            .await
            .map_err(|e| fail(e, req.command.clone()))?;
        let mut config = record.config.clone();
        config.extend(loaded.secrets.clone());
        let wait = ctx
            .deadline
            .saturating_duration_since(tokio::time::Instant::now());
        let executor = self
            .live_executor(executor, record, &config, wait)
            .await
            .map_err(|e| fail(e, req.command.clone()))?;
        let command = resolve_command(executor.as_ref(), req.command.as_deref())
            .map_err(|e| fail(e, req.command.clone()))?;
        let command_name = command.name.clone();
        let cmd = Some(command_name.clone());

        // The hub honours idempotency keys itself: a repeat returns the first result.
        let idempotency = match req.params.get(IDEMPOTENCY_KEY) {
            Some(Value::String(key)) if command.standard.idempotency_key && !key.is_empty() => {
                if key.len() > 255 {
                    return Err(fail(
                        ConnectorError::invalid_input(
                            "idempotencyKey is longer than 255 characters",
                        ),
                        cmd,
                    ));
                }
                let scope = format!("{}:{}", record.id, command_name);
                let hash = request_hash(&command_name, &req.params);
                let ttl = self.settings().idempotency_ttl.as_millis() as i64;
                match self
                    .store()
                    .idempotency_begin(&caller.tenant_id, &scope, key, &hash, ttl)
                    .await
                    .map_err(|e| fail(store_error(e), cmd.clone()))?
                {
                    IdempotencyBegin::Started => Some((scope, key.clone())),
                    IdempotencyBegin::InProgress => {
                        return Err(fail(
                            ConnectorError::conflict(
                                "a call with this idempotencyKey is still running; retry shortly",
                            )
                            .with_retry_after_ms(1000),
                            cmd,
                        ))
                    }
                    IdempotencyBegin::Replay {
                        request_hash,
                        response,
                    } => {
                        if request_hash != hash {
                            return Err(fail(
                                ConnectorError::conflict(
                                    "this idempotencyKey was already used with different parameters; use a new key for a new write",
                                ),
                                cmd,
                            ));
                        }
                        let mut env: Envelope = serde_json::from_value(response).map_err(|_| {
                            fail(
                                ConnectorError::internal("stored idempotent result is unreadable"),
                                cmd.clone(),
                            )
                        })?;
                        env.meta.replayed = true;
                        env.meta.request_id = ctx.request_id.clone();
                        env.meta.duration_ms = 0;
                        return Ok((env, id, cmd));
                    }
                }
            }
            _ => None,
        };

        // OAuth: the fresh access token of the caller's (or the shared) connection,
        // unless the connector was given credentials of its own (an API token or a
        // pasted access token) and was not told to use OAuth.
        // An MCP server's token travels in its session (see `upstream_bearer`).
        let own_credentials = Self::is_mcp(&executor)
            || (!loaded.secrets.is_empty()
                && record.config.get("authType").and_then(Value::as_str) != Some("oauth"));
        let token = if own_credentials {
            Ok(None)
        } else {
            self.oauth_token_for_call(caller, record, executor.spec(), None)
                .await
        };
        let mut oauth = match token {
            Ok(t) => t,
            Err(e) => {
                if let Some((scope, key)) = &idempotency {
                    let _ = self
                        .store()
                        .idempotency_abandon(&caller.tenant_id, scope, key)
                        .await;
                }
                return Err(fail(e, cmd));
            }
        };
        let instance = Instance {
            id: record.id.clone(),
            tenant_id: record.tenant_id.clone(),
            name: record.name.clone(),
        };
        let mut attempt = 0;
        let mut dispatched = loop {
            attempt += 1;
            let mut call_config = config.clone();
            if let Some((token, _)) = &oauth {
                call_config.insert(ACCESS_TOKEN.into(), Value::String(token.clone()));
            }
            let dispatched = dispatch(
                Dispatch {
                    connector: executor.as_ref(),
                    command: Some(&command_name),
                    params: req.params.clone(),
                    config: call_config,
                    variables: req.variables.clone(),
                    mock_scenario: record.mock_scenario.as_deref(),
                    instance: instance.clone(),
                    ctx: ctx.clone(),
                },
                &self.inner.http,
                &self.inner.cursors,
            )
            .await;
            // A vendor refusing the token: refresh once (even if it looked fresh) and retry.
            let refused = dispatched
                .envelope
                .error
                .as_ref()
                .is_some_and(|e| e.code == ErrorCode::Unauthorized);
            match &oauth {
                Some((stale, _)) if refused && attempt == 1 && record.mock_scenario.is_none() => {
                    match self
                        .oauth_token_for_call(caller, record, executor.spec(), Some(stale))
                        .await
                    {
                        Ok(fresh) => oauth = fresh,
                        Err(e) => {
                            break crate::dispatcher::Dispatched {
                                command: command_name.clone(),
                                envelope: error_envelope(e, ctx.request_id.clone()),
                            }
                        }
                    }
                }
                _ => break dispatched,
            }
        };

        // Secret maps (an MCP server's env, headers) hold secrets as their values.
        let mut secret_values: Vec<&str> = loaded
            .secrets
            .values()
            .flat_map(|v| match v {
                Value::Object(m) => m.values().filter_map(Value::as_str).collect::<Vec<_>>(),
                other => other.as_str().into_iter().collect(),
            })
            .collect();
        if let Some((token, _)) = &oauth {
            secret_values.push(token);
        }
        if switchboard_contract::redact::redact_envelope(&mut dispatched.envelope, &secret_values) {
            tracing::warn!(connector = %record.name, command = %command_name, "a secret value appeared in a result and was masked");
        }

        if let Some((scope, key)) = idempotency {
            let transient = dispatched
                .envelope
                .error
                .as_ref()
                .is_some_and(|e| e.code.is_transient());
            let stored = if transient {
                self.store()
                    .idempotency_abandon(&caller.tenant_id, &scope, &key)
                    .await
            } else {
                self.store()
                    .idempotency_complete(
                        &caller.tenant_id,
                        &scope,
                        &key,
                        &dispatched.envelope.to_value(),
                    )
                    .await
            };
            if let Err(e) = stored {
                tracing::error!(error = %e, "could not record idempotency result");
            }
        }
        Ok((dispatched.envelope, id, cmd))
    }

    /// Runs `health` and records the connector's status from it.
    pub async fn test_connector(
        &self,
        caller: &Caller,
        connector: &str,
    ) -> Result<Envelope, ConnectorError> {
        let record = self.visible_connector(caller, connector).await?;
        let mcp = self
            .executor(&record.type_id)
            .await
            .is_ok_and(|e| Self::is_mcp(&e));
        let env = if mcp {
            self.test_mcp(caller, &record).await?
        } else {
            self.execute(
                caller,
                &record.id,
                ExecuteRequest {
                    command: Some("health".into()),
                    ..Default::default()
                },
                None,
            )
            .await
        };
        let (status, reason) = match &env.error {
            None => ("connected", None),
            Some(e) => ("error", Some(format!("{}: {}", e.code, e.message))),
        };
        self.store()
            .set_connector_status(&caller.tenant_id, &record.id, status, reason.as_deref())
            .await
            .map_err(store_error)?;
        self.connectors_changed();
        self.audit().record(NewAuditEntry {
            tenant_id: caller.tenant_id.clone(),
            actor_user_id: Some(caller.user_id.clone()),
            actor_key_id: caller.key_id.clone(),
            action: "connector.test".into(),
            target_kind: "connector".into(),
            target_id: Some(record.id.clone()),
            connector_id: Some(record.id.clone()),
            command: Some("health".into()),
            outcome: if env.ok { "ok" } else { "error" }.into(),
            error_code: env.error.as_ref().map(|e| e.code.as_str().to_string()),
            duration_ms: Some(env.meta.duration_ms as i64),
            detail: None,
        });
        if env.error.as_ref().is_some_and(|e| {
            e.code == ErrorCode::InvalidInput && e.message.contains("unknown command")
        }) {
            return Err(ConnectorError::internal(
                "this connector type has no health command",
            ));
        }
        Ok(env)
    }
}
