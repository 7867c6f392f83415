//! QEMU's JSON option syntax (`-device '{"driver":...}'`) with the keys in
//! the order libvirt's `virJSONValue` builders insert them, which
//! `serde_json`'s sorted maps would not keep.

/// An ordered JSON object under construction.
#[derive(Default)]
pub(crate) struct Props {
    out: String,
}

impl Props {
    pub(crate) fn new() -> Props {
        Props::default()
    }

    fn key(&mut self, key: &str) {
        self.out.push(if self.out.is_empty() { '{' } else { ',' });
        self.out.push_str(&quote(key));
        self.out.push(':');
    }

    pub(crate) fn str(mut self, key: &str, value: &str) -> Props {
        self.key(key);
        self.out.push_str(&quote(value));
        self
    }

    pub(crate) fn opt_str(self, key: &str, value: Option<&str>) -> Props {
        match value {
            Some(v) => self.str(key, v),
            None => self,
        }
    }

    pub(crate) fn num(mut self, key: &str, value: impl Into<i128>) -> Props {
        self.key(key);
        self.out.push_str(&value.into().to_string());
        self
    }

    pub(crate) fn bool(mut self, key: &str, value: bool) -> Props {
        self.key(key);
        self.out.push_str(if value { "true" } else { "false" });
        self
    }

    /// An array of numbers (a bitmap as libvirt's `m:` adds it).
    pub(crate) fn nums(mut self, key: &str, values: &[u32]) -> Props {
        self.key(key);
        let list: Vec<String> = values.iter().map(u32::to_string).collect();
        self.out.push_str(&format!("[{}]", list.join(",")));
        self
    }

    /// A JSON `null` (QEMU's "none", as in `"backing":null`).
    pub(crate) fn null(mut self, key: &str) -> Props {
        self.key(key);
        self.out.push_str("null");
        self
    }

    /// A nested object, already built.
    pub(crate) fn obj(mut self, key: &str, value: Props) -> Props {
        self.key(key);
        self.out.push_str(&value.finish());
        self
    }

    pub(crate) fn finish(mut self) -> String {
        if self.out.is_empty() {
            return "{}".into();
        }
        self.out.push('}');
        self.out
    }
}

/// A JSON string literal (escapes as libvirt's `virJSONValueToString`).
fn quote(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_keep_insertion_order_and_strings_are_escaped() {
        let cache = Props::new().bool("direct", true).bool("no-flush", false);
        let p = Props::new()
            .str("driver", "file")
            .str("filename", "/a \"b\"")
            .num("size", 134217728u64)
            .obj("cache", cache)
            .opt_str("absent", None);
        assert_eq!(
            p.finish(),
            r#"{"driver":"file","filename":"/a \"b\"","size":134217728,"cache":{"direct":true,"no-flush":false}}"#
        );
        assert_eq!(Props::new().finish(), "{}");
    }
}
