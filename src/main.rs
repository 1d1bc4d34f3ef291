//! The `herald` binary: all behaviour lives in the library.

fn main() -> std::process::ExitCode {
    match herald::cli::main() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("herald: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
