//! The `qkms-server` binary. (Being written: owned by the server-core engineer.)

fn main() -> std::process::ExitCode {
    eprintln!("qkms-server: not built yet");
    std::process::ExitCode::FAILURE
}
