//! Actions: one module per action family behind one trait. `spec` declares each action's
//! interface (parameters, outputs, IAM actions) as data.

pub mod spec;
