//! A variable standing for an attribute's value (`virNWFilterVarAccess`,
//! src/conf/nwfilter_params.c): `$NAME`, `$NAME[@ITER]` or `$NAME[INDEX]`.

/// Characters of a variable name (`VALID_VARNAME`).
fn name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// `VIR_NWFILTER_MAX_ITERID`.
const MAX_ITERID: u32 = 1000;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Access {
    /// `NAME[@N]` (plain `NAME` is iterator 0).
    Iterator(u32),
    /// `NAME[N]`.
    Element(u32),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VarAccess {
    pub name: String,
    pub access: Access,
}

impl VarAccess {
    /// `virNWFilterVarAccessParse` (the text after `$`).
    pub fn parse(s: &str) -> Option<VarAccess> {
        let end = s.find(|c| !name_char(c)).unwrap_or(s.len());
        let (name, rest) = s.split_at(end);
        let name = name.to_string();
        if rest.is_empty() {
            return Some(VarAccess {
                name,
                access: Access::Iterator(0),
            });
        }
        let inner = rest.strip_prefix('[')?.trim_start();
        let (iter, digits) = match inner.strip_prefix('@') {
            Some(d) => (true, d),
            None => (false, inner),
        };
        let num_end = digits
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(digits.len());
        let n: u32 = digits[..num_end].parse().ok()?;
        // What follows the `]` is not looked at, as in libvirt.
        if !digits[num_end..].trim_start().starts_with(']') {
            return None;
        }
        let access = if iter {
            (n <= MAX_ITERID).then_some(Access::Iterator(n))?
        } else {
            Access::Element(n)
        };
        Some(VarAccess { name, access })
    }

    /// `virNWFilterVarAccessPrint`.
    pub fn format(&self) -> String {
        match self.access {
            Access::Element(i) => format!("{}[{i}]", self.name),
            Access::Iterator(0) => self.name.clone(),
            Access::Iterator(i) => format!("{}[@{i}]", self.name),
        }
    }
}
