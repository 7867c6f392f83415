//! virsh's tables (tools/vsh-table.c): each cell is preceded by a space and
//! padded to the column width plus two; the rule under the header is the sum
//! of (width + 3) dashes. Cells are made safe to print first, as
//! `vshTableSafeEncode` does.

pub fn render(header: &[&str], rows: &[Vec<String>]) -> String {
    let utf8 = utf8_locale();
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|r| r.iter().map(|c| safe_encode(c, utf8)).collect())
        .collect();
    let rows = &rows;
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let header: Vec<String> = header.iter().map(|s| s.to_string()).collect();
    push_row(&mut out, &header, &widths);
    for w in &widths {
        out.push_str(&"-".repeat(w + 3));
    }
    out.push('\n');
    for row in rows {
        push_row(&mut out, row, &widths);
    }
    out
}

fn push_row(out: &mut String, row: &[String], widths: &[usize]) {
    for (i, cell) in row.iter().enumerate() {
        out.push(' ');
        out.push_str(cell);
        if i + 1 < row.len() {
            let pad = widths[i] - cell.chars().count() + 2;
            out.push_str(&" ".repeat(pad));
        }
    }
    out.push('\n');
}

/// Whether the C library would decode multibyte text: virsh calls
/// `setlocale(LC_ALL, "")`, so this follows LC_ALL, LC_CTYPE, LANG.
fn utf8_locale() -> bool {
    ["LC_ALL", "LC_CTYPE", "LANG"]
        .iter()
        .filter_map(|k| std::env::var(k).ok())
        .find(|v| !v.is_empty())
        .map(|v| {
            let v = v.to_ascii_lowercase();
            v.contains("utf-8") || v.contains("utf8")
        })
        .unwrap_or(false)
}

/// `vshTableSafeEncode`: control characters, and a backslash that starts
/// `\x`, become `\xNN`, so a name cannot forge a line or an escape; outside a
/// UTF-8 locale every non-ASCII byte is escaped too, as the C library
/// cannot decode it; non-printable characters are escaped byte by byte.
pub fn safe_encode(cell: &str, utf8: bool) -> String {
    let mut out = String::with_capacity(cell.len());
    let mut chars = cell.chars().peekable();
    while let Some(c) = chars.next() {
        let forged_escape = c == '\\' && chars.peek() == Some(&'x');
        let printable = if c.is_ascii() {
            !c.is_ascii_control()
        } else {
            utf8 && !c.is_control()
        };
        if printable && !forged_escape {
            out.push(c);
        } else {
            let mut bytes = [0u8; 4];
            for b in c.encode_utf8(&mut bytes).bytes() {
                out.push_str(&hex_escape(b));
            }
        }
    }
    out
}

/// virsh formats the byte as a signed `char` into five bytes: a byte over
/// 0x7f sign-extends to `ffffffNN` and is cut to `\xff`. Users' scripts
/// see that text, so it is kept.
fn hex_escape(b: u8) -> String {
    if b > 0x7f {
        "\\xff".to_string()
    } else {
        format!("\\x{b:02x}")
    }
}

#[cfg(test)]
mod tests {
    use super::safe_encode;

    #[test]
    fn escapes_as_virsh_does() {
        assert_eq!(safe_encode("a\nb", true), "a\\x0ab");
        assert_eq!(safe_encode("a\\xb", true), "a\\x5cxb");
        assert_eq!(safe_encode("a\\b", true), "a\\b");
        assert_eq!(safe_encode("caf\u{e9}", true), "caf\u{e9}");
        assert_eq!(safe_encode("caf\u{e9}", false), "caf\\xff\\xff");
        assert_eq!(safe_encode("x\u{85}", true), "x\\xff\\xff");
    }

    #[test]
    fn matches_virsh_list() {
        let t = super::render(
            &["Id", "Name", "State"],
            &[vec!["1".into(), "test".into(), "running".into()]],
        );
        assert_eq!(
            t,
            " Id   Name   State\n----------------------\n 1    test   running\n"
        );
    }
}
