//! The `herald` binary: all behaviour lives in the library.

/// Publishing allocates on the runtime's threads and the SQLite writer frees on its own;
/// glibc's allocator serialises that hand-over on its arena locks.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    match herald::cli::main() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("herald: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
