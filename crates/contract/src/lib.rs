//! The connector contract: everything a connector, the runtime and the surfaces agree on.
//!
//! Pure types and pure functions only: no I/O, no async, no clocks. Everything that
//! executes lives in `switchboard-runtime`.

pub mod authoring;
pub mod definition;
pub mod envelope;
pub mod error;
pub mod naming;
pub mod outcome;
pub mod project;
pub mod redact;
pub mod schema;
pub mod standard;
pub mod validate;
pub mod versioning;

pub use definition::{
    Access, Annotations, CommandSpec, ConnectorSpec, Deprecation, ExecutionModel, MockResult,
    MockScenario, StandardInputs,
};
pub use envelope::{Envelope, Meta, RateLimit};
pub use error::{ConnectorError, ErrorCode};
pub use outcome::{fail, succeed, Failure, Outcome, Success};
pub use schema::{FieldKind, FieldSpec};
