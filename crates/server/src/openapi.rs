//! The OpenAPI document, assembled from the handlers' annotations.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::api;

#[derive(OpenApi)]
#[openapi(
    info(title = "Switchboard REST API", description = "Connector hub for AI agents. Every response is an envelope: {ok, data} or {ok: false, error: {code, message}}."),
    paths(
        api::health::health, api::health::openapi,
        api::catalog::list, api::catalog::get_one, api::catalog::capabilities, api::openapi_import::parse_oas,
        api::catalog::create, api::catalog::update, api::catalog::delete, api::catalog::definition,
        api::connectors::list, api::connectors::create, api::connectors::get_one, api::connectors::update,
        api::connectors::delete, api::connectors::test, api::connectors::execute, api::connectors::import,
        api::keys::create, api::keys::list, api::keys::revoke,
        api::tenants::create, api::tenants::create_user, api::tenants::me,
        api::audit::list,
        api::profiles::create, api::profiles::list, api::profiles::get_one, api::profiles::replace, api::profiles::delete,
        api::oauth::create_app, api::oauth::create_mcp_app, api::oauth::client_metadata, api::oauth::list_apps, api::oauth::delete_app, api::oauth::start,
        api::oauth::callback, api::oauth::connections, api::oauth::disconnect,
    ),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}
