//! `switchboard mcp-client`: the hub's MCP client (the transport, lifecycle and token
//! handling its upstream connectors use) pointed at one server from the command line.
//! It lists the server's tools and calls one, authorizing with OAuth when the server
//! answers 401 or 403: discovery, client registration, PKCE, a loopback redirect.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{anyhow, bail, Context};
use futures::future::BoxFuture;
use serde_json::{Map, Value};
use switchboard_runtime::http::{NetworkPolicy, OutboundClient, OutboundConfig};
use switchboard_runtime::oauth::upstream::{
    begin_authorization, challenge_param, discover_upstream, finish_authorization, refresh_tokens,
    register_client, ClientRegistration, UpstreamAuth,
};
use switchboard_runtime::oauth::{ClientAuth, TokenSet};
use switchboard_runtime::upstream::{connect_http, BearerSource};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::Mutex;

/// Whole authorizations (browser round trips) one run may make: the first, one
/// step-up, one more; a server that keeps asking after that is refused.
const MAX_AUTHORIZATIONS: usize = 3;
/// How long a person has to approve in the browser.
const APPROVAL_WAIT: Duration = Duration::from_secs(300);

#[derive(clap::Args, Clone)]
pub struct McpClientArgs {
    /// The server's Streamable HTTP endpoint, e.g. https://mcp.example.com/mcp.
    pub url: String,
    /// Call this tool after listing (by its name on the server).
    #[arg(long)]
    pub call: Option<String>,
    /// The call's arguments, a JSON object.
    #[arg(long, default_value = "{}")]
    pub args: String,
    /// A bearer token to send; OAuth is not attempted when one is given.
    #[arg(long, env = "SWITCHBOARD_MCP_CLIENT_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// A header to send with every request, `Name: value` (repeatable).
    #[arg(long = "header")]
    pub headers: Vec<String>,
    /// A client registered by hand at the server's authorization server.
    #[arg(long)]
    pub client_id: Option<String>,
    #[arg(long, env = "SWITCHBOARD_MCP_CLIENT_SECRET", hide_env_values = true)]
    pub client_secret: Option<String>,
    /// This client's metadata document URL (https), used as its client id where the
    /// authorization server accepts one; else the client registers dynamically.
    #[arg(long)]
    pub client_metadata_url: Option<String>,
    /// Fetch the authorization URL instead of waiting for a person to approve in a
    /// browser: for authorization servers that approve at once (test servers).
    #[arg(long)]
    pub auto_authorize: bool,
    /// Handshake and per-request timeout, in seconds.
    #[arg(long, default_value_t = 30)]
    pub timeout_secs: u64,
}

pub async fn run(args: McpClientArgs) -> anyhow::Result<()> {
    let arguments: Map<String, Value> = match serde_json::from_str(&args.args) {
        Ok(Value::Object(m)) => m,
        _ => bail!("--args must be a JSON object, e.g. '{{\"text\": \"hi\"}}'"),
    };
    let mut headers = BTreeMap::new();
    for h in &args.headers {
        let (name, value) = h
            .split_once(':')
            .ok_or_else(|| anyhow!("--header '{h}' is not 'Name: value'"))?;
        headers.insert(name.trim().to_string(), value.trim().to_string());
    }
    // A client run by a person reaches what that person can reach, local servers too.
    let policy = NetworkPolicy::new(vec![
        "0.0.0.0/0".parse().context("network")?,
        "::/0".parse().context("network")?,
    ]);
    let http = OutboundClient::new(policy, OutboundConfig::default())
        .map_err(|e| anyhow!("cannot build the HTTP client: {e}"))?;
    let timeout = Duration::from_secs(args.timeout_secs.max(1));
    let bearer: Arc<dyn BearerSource> = match &args.token {
        Some(t) => Arc::new(FixedToken(t.clone())),
        None => Arc::new(Authorizer::new(http.clone(), &args)),
    };
    let service = connect_http(&http, &args.url, &headers, Some(bearer), timeout)
        .await
        .map_err(|e| anyhow!(e))?;
    let outcome = async {
        let tools = tokio::time::timeout(timeout, service.list_all_tools())
            .await
            .context("tools/list timed out")?
            .context("tools/list failed")?;
        let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
        println!("{}", serde_json::json!({"tools": names}));
        if let Some(tool) = &args.call {
            let params =
                rmcp::model::CallToolRequestParams::new(tool.clone()).with_arguments(arguments);
            let result = tokio::time::timeout(timeout, service.call_tool(params))
                .await
                .context("tools/call timed out")?
                .with_context(|| format!("calling {tool} failed"))?;
            println!("{}", serde_json::to_string(&result)?);
            if result.is_error == Some(true) {
                bail!("the tool answered with an error");
            }
        }
        Ok(())
    }
    .await;
    let _ = service.cancel().await;
    outcome
}

struct FixedToken(String);

impl BearerSource for FixedToken {
    fn current(&self) -> BoxFuture<'_, Result<Option<String>, String>> {
        Box::pin(async move { Ok(Some(self.0.clone())) })
    }

    fn refused<'a>(
        &'a self,
        _sent: Option<&'a str>,
        status: u16,
        challenge: &'a str,
    ) -> BoxFuture<'a, Result<String, String>> {
        Box::pin(async move {
            Err(format!(
                "the server refused the given --token (HTTP {status}: {challenge})"
            ))
        })
    }
}

/// Gets tokens the way an MCP client must: from the server's challenge to its
/// authorization server, a client, the user's approval, then refreshes.
struct Authorizer {
    http: OutboundClient,
    mcp_url: String,
    pre_registered: Option<(String, Option<String>)>,
    metadata_url: Option<String>,
    auto: bool,
    state: Mutex<AuthState>,
}

#[derive(Default)]
struct AuthState {
    auth: Option<UpstreamAuth>,
    client: Option<ClientAuth>,
    tokens: Option<TokenSet>,
    /// Scopes asked for so far (a step-up asks for these plus the new ones).
    scopes: Vec<String>,
    authorizations: usize,
    redirect: Option<(TcpListener, String)>,
}

impl Authorizer {
    fn new(http: OutboundClient, args: &McpClientArgs) -> Self {
        Authorizer {
            http,
            mcp_url: args.url.clone(),
            pre_registered: args
                .client_id
                .clone()
                .map(|id| (id, args.client_secret.clone())),
            metadata_url: args.client_metadata_url.clone(),
            auto: args.auto_authorize,
            state: Mutex::new(AuthState::default()),
        }
    }

    /// One authorization: discovery from `challenge`, a client (once), approval, code.
    async fn authorize(
        &self,
        st: &mut AuthState,
        challenge: &str,
        extra_scopes: &[String],
    ) -> Result<String, String> {
        if st.authorizations == MAX_AUTHORIZATIONS {
            return Err(format!(
                "the server still refuses after {MAX_AUTHORIZATIONS} authorizations; giving up"
            ));
        }
        st.authorizations += 1;
        let auth = discover_upstream(&self.http, &self.mcp_url, Some(challenge))
            .await
            .map_err(|e| e.to_string())?;
        if st.redirect.is_none() {
            let listener = TcpListener::bind("127.0.0.1:0")
                .await
                .map_err(|e| format!("cannot listen for the redirect: {e}"))?;
            let port = listener.local_addr().map_err(|e| e.to_string())?.port();
            st.redirect = Some((listener, format!("http://127.0.0.1:{port}/callback")));
        }
        let redirect_uri = st
            .redirect
            .as_ref()
            .map(|r| r.1.clone())
            .unwrap_or_default();
        // A client belongs to one authorization server: a server that moved to
        // another one (its metadata names a new issuer) gets a new registration.
        let issuer = &auth.authorization_server.issuer;
        let known = st.auth.as_ref().map(|a| &a.authorization_server.issuer);
        if known.is_some_and(|k| k != issuer) {
            st.client = None;
            st.tokens = None;
        }
        let client = match &st.client {
            Some(c) => c.clone(),
            None => {
                let how = ClientRegistration::choose(
                    &auth.authorization_server,
                    self.pre_registered.clone(),
                    self.metadata_url.clone(),
                    "Switchboard mcp-client",
                );
                let c =
                    register_client(&self.http, &auth.authorization_server, &redirect_uri, &how)
                        .await
                        .map_err(|e| e.to_string())?;
                st.client = Some(c.clone());
                c
            }
        };
        let mut scopes = auth.scopes.clone();
        for s in st.scopes.iter().chain(extra_scopes) {
            if !scopes.contains(s) {
                scopes.push(s.clone());
            }
        }
        let pending = begin_authorization(&auth, &client, &redirect_uri, &scopes);
        let answer = match (&self.auto, &st.redirect) {
            (true, _) => self.follow(&pending.url, &redirect_uri).await?,
            (false, Some((listener, _))) => wait_for_redirect(listener, &pending.url).await?,
            (false, None) => return Err("no redirect listener".into()),
        };
        let tokens = finish_authorization(&self.http, &auth, &client, &pending, &answer, now_ms())
            .await
            .map_err(|e| format!("the authorization failed: {e}"))?;
        let token = tokens.access_token.clone();
        st.scopes = scopes;
        st.tokens = Some(tokens);
        st.auth = Some(auth);
        Ok(token)
    }

    /// Opens the authorization URL as a browser would and reads where it sends us.
    async fn follow(&self, url: &str, redirect_uri: &str) -> Result<url::Url, String> {
        let agent = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| e.to_string())?;
        let mut next = url.to_string();
        for _ in 0..5 {
            let resp = agent
                .get(&next)
                .send()
                .await
                .map_err(|e| format!("the authorization endpoint could not be reached: {e}"))?;
            let location = resp
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|l| l.to_str().ok())
                .map(str::to_string);
            let Some(location) = location else {
                return Err(format!(
                    "the authorization endpoint answered HTTP {} instead of redirecting; run without --auto-authorize and approve in a browser",
                    resp.status().as_u16()
                ));
            };
            let target = url::Url::parse(&next)
                .and_then(|base| base.join(&location))
                .map_err(|_| "the authorization endpoint redirected to a bad URL".to_string())?;
            if target.as_str().starts_with(redirect_uri) {
                return Ok(target);
            }
            next = target.to_string();
        }
        Err("too many redirects before the authorization answer".into())
    }

    async fn refresh(&self, st: &mut AuthState) -> Option<String> {
        let (auth, client, refresh) = (
            st.auth.as_ref()?,
            st.client.as_ref()?,
            st.tokens.as_ref()?.refresh_token.clone()?,
        );
        let tokens = refresh_tokens(&self.http, auth, client, &refresh, now_ms())
            .await
            .ok()?;
        let token = tokens.access_token.clone();
        st.tokens = Some(tokens);
        Some(token)
    }
}

impl BearerSource for Authorizer {
    fn current(&self) -> BoxFuture<'_, Result<Option<String>, String>> {
        Box::pin(async move {
            let mut st = self.state.lock().await;
            let expired = st
                .tokens
                .as_ref()
                .and_then(|t| t.expires_at)
                .is_some_and(|at| at - now_ms() < 30_000);
            if expired {
                if let Some(t) = self.refresh(&mut st).await {
                    return Ok(Some(t));
                }
            }
            Ok(st.tokens.as_ref().map(|t| t.access_token.clone()))
        })
    }

    fn refused<'a>(
        &'a self,
        sent: Option<&'a str>,
        status: u16,
        challenge: &'a str,
    ) -> BoxFuture<'a, Result<String, String>> {
        Box::pin(async move {
            let mut st = self.state.lock().await;
            // Another request already got a newer token while this one waited.
            if let Some(t) = &st.tokens {
                if Some(t.access_token.as_str()) != sent {
                    return Ok(t.access_token.clone());
                }
            }
            if status == 403 {
                let wanted: Vec<String> = challenge_param(challenge, "scope")
                    .unwrap_or_default()
                    .split_whitespace()
                    .map(str::to_string)
                    .collect();
                let error = challenge_param(challenge, "error").unwrap_or_default();
                if error != "insufficient_scope" || wanted.is_empty() {
                    return Err(format!("the server forbids this request: {challenge}"));
                }
                if wanted.iter().all(|s| st.scopes.contains(s)) {
                    return Err(format!(
                        "the server asks for scopes already granted ({}); it will not accept this client",
                        wanted.join(" ")
                    ));
                }
                return self.authorize(&mut st, challenge, &wanted).await;
            }
            if sent.is_some() {
                if let Some(t) = self.refresh(&mut st).await {
                    return Ok(t);
                }
            }
            self.authorize(&mut st, challenge, &[]).await
        })
    }
}

/// Prints the URL for a person to open and waits for the browser's redirect to the
/// loopback listener (RFC 8252 §7.3), answering it with a page that says what now.
async fn wait_for_redirect(listener: &TcpListener, url: &str) -> Result<url::Url, String> {
    eprintln!("Open this URL in a browser to authorize:\n  {url}");
    let accept = async {
        loop {
            let (mut stream, _) = listener.accept().await.map_err(|e| e.to_string())?;
            let mut buf = vec![0u8; 8192];
            let n = stream.read(&mut buf).await.map_err(|e| e.to_string())?;
            let head = String::from_utf8_lossy(&buf[..n]);
            let target = head
                .lines()
                .next()
                .and_then(|l| l.split_whitespace().nth(1))
                .unwrap_or("");
            if !target.starts_with("/callback") {
                let _ = stream
                    .write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
                    .await;
                continue;
            }
            let page = "<!doctype html><title>Switchboard</title><p>Authorization received. You can close this tab and return to the terminal.</p>";
            let _ = stream
                .write_all(
                    format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{page}",
                        page.len()
                    )
                    .as_bytes(),
                )
                .await;
            return url::Url::parse(&format!("http://127.0.0.1{target}"))
                .map_err(|_| "the redirect carried a bad URL".to_string());
        }
    };
    tokio::time::timeout(APPROVAL_WAIT, accept)
        .await
        .map_err(|_| "nobody approved within 5 minutes".to_string())?
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
