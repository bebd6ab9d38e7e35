//! `cargo xtask ci | e2e | bench | dist`: project automation (being written).

fn main() -> anyhow::Result<()> {
    Ok(())
}
