//! libvirt's RelaxNG schemas (`/usr/share/libvirt/schemas`, installed with
//! libvirt-clients) applied to documents, as `virt-xml-validate FILE domain`
//! does: that script runs `xmllint --relaxng` on the schema; here one
//! xmllint run checks a whole batch, so the schema is compiled once.

use crate::dirs::TempDir;
use std::process::Command;

const SCHEMA_DIR: &str = "/usr/share/libvirt/schemas";
/// Documents per xmllint run.
const BATCH: usize = 200;

/// Whether xmllint (libxml2-utils) and libvirt's schemas are installed.
pub fn available() -> bool {
    let schema = std::path::Path::new(SCHEMA_DIR).join("domain.rng");
    schema.exists() && Command::new("xmllint").arg("--version").output().is_ok()
}

/// For each document, `None` if it validates against `schema` (e.g.
/// "domain"), else xmllint's first complaint about it.
pub fn validate(schema: &str, docs: &[&str]) -> Result<Vec<Option<String>>, String> {
    let mut verdicts = Vec::with_capacity(docs.len());
    for chunk in docs.chunks(BATCH) {
        verdicts.extend(validate_batch(schema, chunk)?);
    }
    Ok(verdicts)
}

fn validate_batch(schema: &str, docs: &[&str]) -> Result<Vec<Option<String>>, String> {
    let dir = TempDir::new("schema");
    let files: Vec<_> = docs
        .iter()
        .enumerate()
        .map(|(i, text)| dir.write(&format!("{i}.xml"), text))
        .collect();
    let out = Command::new("xmllint")
        .arg("--noout")
        .arg("--relaxng")
        .arg(format!("{SCHEMA_DIR}/{schema}.rng"))
        .args(&files)
        .output()
        .map_err(|e| format!("xmllint: {e} (scripts/install-deps.sh installs libxml2-utils)"))?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    Ok(files
        .iter()
        .map(|f| {
            let name = f.display().to_string();
            if stderr.contains(&format!("{name} validates")) {
                return None;
            }
            let why = stderr
                .lines()
                .find(|l| l.starts_with(&name) && !l.ends_with("fails to validate"))
                .unwrap_or("fails to validate");
            Some(why.replacen(&name, "", 1))
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_valid_and_an_invalid_domain() {
        if !available() {
            eprintln!("xmllint or libvirt's schemas missing: skipping");
            return;
        }
        let good = "<domain type='test'><name>a</name><memory>1</memory>\
                    <os><type>hvm</type></os></domain>";
        let bad = "<domain type='test'><name>a</name><bogus/></domain>";
        let v = validate("domain", &[good, bad]).expect("xmllint");
        assert_eq!(v[0], None);
        assert!(v[1].is_some(), "{v:?}");
    }
}
