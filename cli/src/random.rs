//! `qkms random`. (Being written: owned by the entropy pool engineer.)

use clap::Args;

#[derive(Debug, Args)]
pub struct RandomArgs {}

pub fn run(_args: RandomArgs) -> Result<(), Box<dyn std::error::Error>> {
    Err("qkms random is not built yet".into())
}
