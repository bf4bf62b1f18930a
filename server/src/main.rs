fn main() -> std::process::ExitCode {
    maeum_server::cli::main()
}
