fn main() -> std::process::ExitCode {
    whalewatch::cli::main()
}
