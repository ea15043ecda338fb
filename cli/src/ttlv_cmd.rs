//! `qkms ttlv decode|encode`. (Being written: owned by the ttlv CLI engineer.)

use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub enum TtlvCommand {}

pub fn run(command: TtlvCommand) -> Result<(), Box<dyn std::error::Error>> {
    match command {}
}
