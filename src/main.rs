//! The `sigillo` command: the server and the command line in one binary.

fn main() -> std::process::ExitCode {
    sigillo::cli::main()
}
