//! Executes connectors: the framework built-in types are written in, the dispatcher
//! that enforces the contract around every call, the outbound HTTP client with its
//! network policy, and the hub services every surface calls.

pub mod cursor;
pub mod dispatcher;
pub mod executors;
pub mod external;
pub mod framework;
pub mod http;
pub mod hub;
pub mod oauth;
pub mod openapi;
pub mod protocol;
pub mod script;
pub mod upstream;

pub use cursor::CursorSigner;
pub use framework::{
    Call, ClientBridge, Connector, Definition, Instance, Progress, Registry, RequestContext,
};
pub use hub::{Caller, Hub, HubSettings};
