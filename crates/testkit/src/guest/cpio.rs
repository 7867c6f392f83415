//! The "newc" cpio archive the kernel unpacks as its initramfs
//! (Documentation/driver-api/early-userspace/buffer-format.rst): written
//! here because the `cpio` command is not installed everywhere.

/// What an archive entry is, with its permission bits.
pub enum Entry<'a> {
    Dir,
    File {
        data: &'a [u8],
        executable: bool,
    },
    /// A character device (major, minor), e.g. /dev/console.
    CharDev(u32, u32),
}

/// An archive being built, entry by entry.
#[derive(Default)]
pub struct Archive {
    bytes: Vec<u8>,
    next_ino: u32,
}

impl Archive {
    /// Append `path` (relative, no leading '/').
    pub fn add(&mut self, path: &str, entry: Entry) {
        let (mode, data, rdev): (u32, &[u8], (u32, u32)) = match entry {
            Entry::Dir => (0o040755, &[], (0, 0)),
            Entry::File { data, executable } => {
                (if executable { 0o100755 } else { 0o100644 }, data, (0, 0))
            }
            Entry::CharDev(major, minor) => (0o020600, &[], (major, minor)),
        };
        let nlink = if mode & 0o040000 != 0 { 2 } else { 1 };
        self.next_ino += 1;
        self.header(self.next_ino, mode, nlink, data.len(), rdev, path);
        self.bytes.extend_from_slice(data);
        self.pad();
    }

    /// The archive with its trailer.
    pub fn finish(mut self) -> Vec<u8> {
        self.header(0, 0, 1, 0, (0, 0), "TRAILER!!!");
        self.bytes
    }

    fn header(
        &mut self,
        ino: u32,
        mode: u32,
        nlink: u32,
        size: usize,
        rdev: (u32, u32),
        name: &str,
    ) {
        // ino mode uid gid nlink mtime filesize devmajor devminor rdevmajor
        // rdevminor namesize check, each 8 hex digits.
        let fields = [
            ino,
            mode,
            0,
            0,
            nlink,
            0,
            size as u32,
            0,
            0,
            rdev.0,
            rdev.1,
            name.len() as u32 + 1,
            0,
        ];
        self.bytes.extend_from_slice(b"070701");
        for f in fields {
            self.bytes.extend_from_slice(format!("{f:08x}").as_bytes());
        }
        self.bytes.extend_from_slice(name.as_bytes());
        self.bytes.push(0);
        self.pad();
    }

    /// Header+name and data each end on a 4-byte boundary.
    fn pad(&mut self) {
        while !self.bytes.len().is_multiple_of(4) {
            self.bytes.push(0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_newc_and_aligned() {
        let mut a = Archive::default();
        a.add(
            "init",
            Entry::File {
                data: b"#!x\n",
                executable: true,
            },
        );
        let bytes = a.finish();
        assert!(bytes.starts_with(b"070701"));
        assert_eq!(&bytes[14..22], b"000081ed", "mode of an executable file");
        assert!(bytes.len().is_multiple_of(4));
        let trailer = bytes.windows(10).position(|w| w == b"TRAILER!!!");
        assert!(trailer.is_some());
    }
}
