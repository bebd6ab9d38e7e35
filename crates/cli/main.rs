//! `rootless-setup`: prepares, installs, diagnoses and removes a rootless container engine.
//! The binary is glue: argument parsing, output and prompts; the logic lives in the crates.

fn main() {
    println!("rootless-setup");
}
