fn main() -> std::process::ExitCode {
    consent_explorer::cli::main()
}
