//! Importing OpenAPI documents: admins only, since a URL makes the hub fetch it.

use switchboard_contract::ConnectorError;
use switchboard_openapi::Draft;

use super::{Caller, Hub};
use crate::openapi::{limits_from_env, OasSource, OpenApiSupport};

impl Hub {
    /// The `openapi` model's support, over this hub's outbound client and network policy.
    pub fn openapi_support(&self) -> OpenApiSupport {
        OpenApiSupport::new(self.inner.http.clone(), limits_from_env())
    }

    /// `POST /api/connector-types/parse-oas`: a document (or its URL) as a draft type.
    pub async fn parse_openapi(
        &self,
        caller: &Caller,
        source: OasSource,
    ) -> Result<Draft, ConnectorError> {
        caller.require_admin("importing an OpenAPI document")?;
        self.openapi_support().parse(source).await
    }
}
