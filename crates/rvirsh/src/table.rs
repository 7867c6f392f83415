//! virsh's tables (tools/vsh-table.c): each cell is preceded by a space and
//! padded to the column width plus two; the rule under the header is the sum
//! of (width + 3) dashes.

pub fn render(header: &[&str], rows: &[Vec<String>]) -> String {
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

#[cfg(test)]
mod tests {
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
