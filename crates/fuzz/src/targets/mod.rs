//! The fuzz targets. Each runs one input and returns a signature of what
//! happened (the runner keeps inputs with new signatures); a panic or a
//! failed check inside `run` is a finding.

mod dispatch;
mod framer;
mod handshake;
mod sasl;
mod tls;
mod xdr;
mod xml;

pub use dispatch::Dispatch;
pub use framer::Framer;
pub use handshake::Handshake;
pub use sasl::Sasl;
pub use tls::Tls;
pub use xdr::Xdr;
pub use xml::Xml;

pub trait Target {
    fn name(&self) -> &'static str;
    /// Valid inputs to start from.
    fn seeds(&self) -> Vec<Vec<u8>>;
    fn run(&mut self, input: &[u8]) -> u64;
    /// How many times cheaper than its runs `all` makes this target:
    /// `all --runs N` gives it N / divisor. A full TLS handshake costs
    /// what hundreds of XDR decodes do, and an even share would make it
    /// most of CI's fuzz pass; run it alone for a long campaign.
    fn all_runs_divisor(&self) -> u64 {
        1
    }
}

/// Every target, in the order `all` runs them.
pub const NAMES: &[&str] = &[
    "framer",
    "xdr",
    "dispatch",
    "xml",
    "sasl",
    "tls",
    "tls-handshake",
];

pub fn by_name(name: &str) -> Option<Box<dyn Target>> {
    Some(match name {
        "framer" => Box::new(Framer::new()),
        "xdr" => Box::new(Xdr),
        "dispatch" => Box::new(Dispatch::new()),
        "xml" => Box::new(Xml),
        "sasl" => Box::new(Sasl::new()),
        "tls" => Box::new(Tls),
        "tls-handshake" => Box::new(Handshake::new()),
        _ => return None,
    })
}

/// Mix a value into a signature.
pub fn mix(sig: u64, v: u64) -> u64 {
    (sig ^ v).wrapping_mul(0x0100_0000_01b3).rotate_left(7)
}
