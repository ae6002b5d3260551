//! The `appeal` binary: parse, run, exit code.

use std::process::ExitCode;

use clap::Parser;

use appeal::exit::Exit;

fn main() -> ExitCode {
    let cli = appeal::cli::Cli::parse();
    match appeal::app::run(cli) {
        Ok(exit) => exit.into(),
        Err(err) => {
            // A closed pipe (`appeal preview | head`) is not an error worth a message.
            if err.chain().any(|e| {
                e.downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            }) {
                return Exit::Success.into();
            }
            eprintln!("appeal: error: {err:#}");
            Exit::for_error(&err).into()
        }
    }
}
