//! `svcaudit seed`: a fresh seed and its commitment, so the commitment can be published
//! before the draw (seed shopping then shows).

use crate::error::Result;
use crate::seed::Seed;

pub fn run() -> Result<()> {
    let s = Seed::fresh();
    crate::outln!("seed: {}", s.canonical());
    crate::outln!("commitment (SHA-256): {}", s.commitment());
    eprintln!(
        "Publish the commitment before the draw, keep the seed private until then, and draw with\n  --seed {} --seed-commitment {}",
        s.canonical(),
        s.commitment()
    );
    Ok(())
}
