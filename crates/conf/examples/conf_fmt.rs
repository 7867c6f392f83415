//! Parse a domain (or capabilities with `--caps`) XML file and print it
//! formatted, or the error message.
use rvirt_conf::{Capabilities, DomainDef, FormatOptions};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (caps, path) = match args.get(1).map(String::as_str) {
        Some("--caps") => (true, &args[2]),
        _ => (false, &args[1]),
    };
    let text = std::fs::read_to_string(path).expect("read");
    if caps {
        match Capabilities::parse(&text) {
            Ok(c) => print!("{}", c.format()),
            Err(e) => println!("error: {}", e.message),
        }
        return;
    }
    match DomainDef::parse(&text) {
        Ok(d) => print!("{}", d.format(&FormatOptions::default())),
        Err(e) => println!("error: {}", e.message),
    }
}
