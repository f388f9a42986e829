//! The `shopbench` binary: parse, run, map the outcome to an exit code (see `shopbench::exit`).

fn main() -> std::process::ExitCode {
    shopbench::main_entry(std::env::args_os())
}
