//! The `vfio-mig` command: one module per subcommand, the `--decide`
//! parser, and the kernel-source parsing of the uAPI drift gate. This is the
//! edge of the project: errors become one line of text here.
#![forbid(unsafe_code)]

pub mod cmd;
pub mod decide;
pub mod limits;
pub mod outputs;
pub mod progress;
pub mod uapi_drift;
