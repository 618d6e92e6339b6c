//! What the hub stores for an OpenAPI-derived type and executes from: per operation,
//! the method, the path template and where each command parameter goes on the wire;
//! per security scheme, how it is applied and which config fields feed it.

use serde::{Deserialize, Serialize};

/// Config field holding the API's base URL (from `servers`).
pub const BASE_URL_FIELD: &str = "baseUrl";
/// Config field holding a bearer or OAuth access token (shared with the token lifecycle).
pub const ACCESS_TOKEN_FIELD: &str = "accessToken";

/// The execution definition of an OpenAPI-derived type (the type's `definition` JSON).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OpenApiDefinition {
    /// The document's `openapi` version, e.g. `3.0.3`.
    pub openapi_version: String,
    /// The config field the base URL is read from (always [`BASE_URL_FIELD`] today).
    pub base_url_field: String,
    /// Every supported scheme of the document, with the config fields that feed it.
    #[serde(default)]
    pub security_schemes: Vec<SecurityScheme>,
    /// When the document declares no scheme: send `accessToken` as a bearer token if set.
    #[serde(default)]
    pub fallback_bearer: bool,
    pub operations: Vec<Operation>,
}

impl OpenApiDefinition {
    pub fn operation(&self, command: &str) -> Option<&Operation> {
        self.operations.iter().find(|o| o.command == command)
    }
    pub fn scheme(&self, name: &str) -> Option<&SecurityScheme> {
        self.security_schemes.iter().find(|s| s.name == name)
    }
}

/// One operation, as one command.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Operation {
    pub command: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation_id: Option<String>,
    /// Upper-case HTTP method.
    pub method: String,
    /// The path template, e.g. `/repos/{owner}/{repo}`.
    pub path: String,
    #[serde(default)]
    pub params: Vec<ParamBinding>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<BodyBinding>,
    /// Alternatives (OR) of scheme sets (AND), with scopes; empty: no authentication.
    #[serde(default)]
    pub security: Vec<Vec<SecurityUse>>,
    /// The media type asked for (`Accept`), from the success response; JSON when offered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accept: Option<String>,
}

/// Where a path, query, header or cookie parameter goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Location {
    Path,
    Query,
    Header,
    Cookie,
}

impl Location {
    pub fn as_str(self) -> &'static str {
        match self {
            Location::Path => "path",
            Location::Query => "query",
            Location::Header => "header",
            Location::Cookie => "cookie",
        }
    }
}

/// A command parameter bound to a request parameter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ParamBinding {
    /// The name in the command's input schema.
    pub param: String,
    /// The name on the wire.
    pub wire: String,
    #[serde(rename = "in")]
    pub location: Location,
    /// OpenAPI `style` (`form`, `simple`, `deepObject`, `spaceDelimited`, `pipeDelimited`…).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub style: Option<String>,
    /// OpenAPI `explode`; `None` means the style's default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explode: Option<bool>,
}

/// How the request body is built from the command's params.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BodyBinding {
    /// The media type sent, e.g. `application/json`.
    pub content_type: String,
    pub encoding: BodyEncoding,
    pub required: bool,
    pub shape: BodyShape,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BodyEncoding {
    Json,
    /// `application/x-www-form-urlencoded`.
    Form,
    /// `text/plain` and other text types: the param is sent as is.
    Text,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum BodyShape {
    /// The whole body is one command param.
    Whole { param: String },
    /// The body object's properties are top-level command params.
    Properties { properties: Vec<BodyProperty> },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BodyProperty {
    pub param: String,
    pub wire: String,
}

/// One security requirement of an operation: a scheme and the scopes it needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SecurityUse {
    pub scheme: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scopes: Vec<String>,
}

/// A security scheme and the config fields it reads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SecurityScheme {
    /// The scheme's key in `components.securitySchemes`.
    pub name: String,
    pub kind: SchemeKind,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "type")]
pub enum SchemeKind {
    /// A key sent in a header, query parameter or cookie named `param_name`.
    #[serde(rename_all = "camelCase")]
    ApiKey {
        #[serde(rename = "in")]
        location: Location,
        param_name: String,
        field: String,
    },
    /// `Authorization: Bearer <field>` (http bearer, OpenID Connect, OAuth2 without client credentials).
    #[serde(rename_all = "camelCase")]
    Bearer { field: String },
    #[serde(rename_all = "camelCase")]
    Basic {
        username_field: String,
        password_field: String,
    },
    /// OAuth2: a ready token in `access_token_field` wins; else the client-credentials
    /// grant against `token_url_field` with `client_id_field` / `client_secret_field`.
    #[serde(rename_all = "camelCase")]
    OAuth2 {
        access_token_field: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        client_credentials: Option<ClientCredentialsFields>,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientCredentialsFields {
    pub token_url_field: String,
    pub client_id_field: String,
    pub client_secret_field: String,
}
