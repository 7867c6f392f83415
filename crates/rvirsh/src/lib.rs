//! rvirsh as a library: the command table, the parser and the shell state,
//! so integration tests can check how options become API calls (flags,
//! typed parameters) without a hypervisor. The `rvirsh` binary is a thin
//! front end over this.

pub mod auth;
pub mod commands;
pub mod parse;
pub mod progress;
pub mod shell;
pub mod table;
pub mod watch;
pub mod xpath;
