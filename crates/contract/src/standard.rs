//! The standard inputs of SPEC section 2, added to a command's schema where they apply.

use crate::definition::{CommandSpec, StandardInputs};
use crate::schema::{FieldKind, FieldSpec};

pub const LIMIT: &str = "limit";
pub const CURSOR: &str = "cursor";
pub const FIELDS: &str = "fields";
pub const EXPAND: &str = "expand";
pub const REQUEST_ID: &str = "requestId";
pub const IDEMPOTENCY_KEY: &str = "idempotencyKey";
pub const TENANT_ID: &str = "tenantId";
pub const WORKSPACE_ID: &str = "workspaceId";

/// The largest page any connector is asked for; vendors cap lower themselves.
pub const MAX_LIMIT: i64 = 1000;

/// Inputs accepted by every command but left out of schemas to keep them short:
/// when given they must name the caller's own tenant.
pub const TENANT_INPUTS: [&str; 2] = [TENANT_ID, WORKSPACE_ID];

pub fn fields_for(command: &CommandSpec) -> Vec<FieldSpec> {
    let StandardInputs {
        paginated,
        projection,
        expand,
        idempotency_key,
    } = command.standard;
    let mut out = Vec::new();
    if paginated {
        out.push(
            FieldSpec::new(LIMIT, FieldKind::integer_range(1, MAX_LIMIT))
                .describe("Maximum number of items to return in this page."),
        );
        out.push(FieldSpec::string(CURSOR).describe(
            "Opaque cursor from a previous result's nextCursor, to fetch the next page.",
        ));
    }
    if projection {
        out.push(FieldSpec::new(FIELDS, FieldKind::StringList).describe(
            "Only return these fields of each item (dot paths allowed), to keep results small.",
        ));
    }
    if expand {
        out.push(
            FieldSpec::new(EXPAND, FieldKind::StringList)
                .describe("Related objects to expand inline."),
        );
    }
    if idempotency_key {
        out.push(FieldSpec::string(IDEMPOTENCY_KEY).describe(
            "A unique key for this write; repeating the call with the same key returns the first result instead of writing twice.",
        ));
    }
    out.push(
        FieldSpec::string(REQUEST_ID).describe("Optional id to trace this call in logs and audit."),
    );
    out
}
