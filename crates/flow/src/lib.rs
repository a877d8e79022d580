//! Baton's flow core: the flow document (format 1), its validation, and a pure runtime.
//!
//! Nothing here does IO, reads a clock or draws random numbers: a flow is parsed and checked,
//! and a conversation moves with [`runtime::step`], which returns effects as data. The server,
//! the CLI and the simulator carry the effects out and feed their results back as events.

pub mod ai;
pub mod condition;
pub mod diagnostic;
pub mod document;
pub mod entry;
pub mod escape;
pub mod flow;
pub mod handover;
pub mod hours;
pub mod matching;
pub mod runtime;
pub mod schema;
pub mod script;
pub mod sim;
pub mod sla;
pub mod template;
pub mod test_case;
pub mod validate;

pub use diagnostic::{Diagnostic, Severity};
pub use document::FlowDocument;
pub use flow::{Flow, Loaded};
pub use runtime::{step, Effect, Event, State};
pub use validate::{check, Checked};
