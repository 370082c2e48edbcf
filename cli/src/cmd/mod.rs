//! One module per subcommand.

pub mod check_trace;
pub mod diff;
pub mod explain;
pub mod mutants;
pub mod run;
pub mod spec;
pub mod uapi_check;
