//! The test driver's saved guests (test_driver.c's `testDomainSaveFlags`,
//! `testDomainRestoreFlags`, `testDomainSaveImageGetXMLDesc`,
//! `testDomainSaveImageDefineXML`, `testDomainManagedSave`,
//! `testDomainManagedSaveRemove`, `testDomainCoreDumpWithFormat`): an
//! image is libvirt's, the magic "TestGuestMagic" with its NUL, the
//! length of the domain XML as a native int, and the XML; a core dump is
//! the magic alone; a managed save is only a mark on the domain.

use crate::check_flags;
use crate::connection::TestConnection;
use crate::memory::check_active;
use crate::state::parse_domain;
use rvirt::driver::{DomainRef, SaveDriver};
use rvirt::events::lifecycle;
use rvirt::types::{reason, DomainState};
use rvirt_conf::{DomainDef, FormatOptions};
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result};
use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;

/// `TEST_SAVE_MAGIC`, with the NUL `sizeof` counts.
const MAGIC: &[u8; 15] = b"TestGuestMagic\0";
/// The longest XML an image may carry.
const MAX_XML: i32 = 8192;
/// `VIR_DOMAIN_SAVE_BYPASS_CACHE`, `_RUNNING`, `_PAUSED`.
const SAVE_FLAGS: u32 = 1 | 2 | 4;
/// `VIR_DOMAIN_SAVE_IMAGE_XML_SECURE`, `VIR_DUMP_CRASH`.
const IMAGE_XML_SECURE: u32 = 1;
const DUMP_CRASH: u32 = 1;

fn system(what: String, e: &std::io::Error) -> Error {
    Error::system(ErrorDomain::TEST, what, e)
}

/// A file only its owner reads and writes, emptied.
fn create(path: &str) -> std::io::Result<std::fs::File> {
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
}

/// `testDomainSaveImageWrite`: the file goes again when a write fails.
fn write_image(path: &str, def: &DomainDef, id: Option<i32>) -> Result<()> {
    let opts = FormatOptions {
        id,
        inactive: false,
        secure: true,
    };
    let xml = def.format(&opts);
    let name = &def.name;
    let mut file = create(path).map_err(|e| {
        system(
            format!("saving domain '{name}' to '{path}': open failed"),
            &e,
        )
    })?;
    let written = file
        .write_all(MAGIC)
        .and_then(|()| file.write_all(&(xml.len() as i32).to_ne_bytes()))
        .and_then(|()| file.write_all(xml.as_bytes()))
        .and_then(|()| file.sync_all());
    written.map_err(|e| {
        let _ = std::fs::remove_file(path);
        system(
            format!("saving domain '{name}' to '{path}': write failed"),
            &e,
        )
    })
}

/// Read exactly `buf.len()` bytes, or the error `what` names (a short
/// read is reported as libvirt's, with the errno of the last read).
fn read_exact(file: &mut std::fs::File, buf: &mut [u8], what: String) -> Result<()> {
    let mut got = 0;
    while got < buf.len() {
        match file.read(&mut buf[got..]) {
            Ok(0) => return Err(system(what, &std::io::Error::from_raw_os_error(0))),
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(system(what, &e)),
        }
    }
    Ok(())
}

/// `testDomainSaveImageOpen`: the definition an image holds.
fn read_image(path: &str) -> Result<DomainDef> {
    let mut file = std::fs::File::open(path)
        .map_err(|e| system(format!("cannot read domain image '{path}'"), &e))?;
    let mut magic = [0u8; 15];
    read_exact(
        &mut file,
        &mut magic,
        format!("incomplete save header in '{path}'"),
    )?;
    if &magic != MAGIC {
        return Err(Error::internal(
            ErrorDomain::TEST,
            "mismatched header magic",
        ));
    }
    let mut len = [0u8; 4];
    let what = format!("failed to read metadata length in '{path}'");
    read_exact(&mut file, &mut len, what)?;
    let len = i32::from_ne_bytes(len);
    if !(1..=MAX_XML).contains(&len) {
        return Err(Error::internal(
            ErrorDomain::TEST,
            "length of metadata out of range",
        ));
    }
    let mut xml = vec![0u8; len as usize];
    read_exact(
        &mut file,
        &mut xml,
        format!("incomplete metadata in '{path}'"),
    )?;
    let end = xml.iter().position(|b| *b == 0).unwrap_or(xml.len());
    parse_domain(&String::from_utf8_lossy(&xml[..end]))
}

fn xml_modification_unsupported() -> Error {
    Error::new(
        ErrorDomain::TEST,
        ErrorCode::ARGUMENT_UNSUPPORTED,
        "xml modification unsupported",
    )
}

impl SaveDriver for TestConnection {
    fn save(&self, dom: &DomainRef, to: &str, dxml: Option<&str>, flags: u32) -> Result<()> {
        check_flags("testDomainSaveFlags", flags, 0)?;
        if dxml.is_some() {
            return Err(xml_modification_unsupported());
        }
        self.stop(dom, |obj| {
            check_active(obj)?;
            write_image(to, &obj.def, Some(obj.id))?;
            Ok((reason::SHUTOFF_SAVED, lifecycle::STOPPED_SAVED))
        })
    }

    fn restore(&self, from: &str, dxml: Option<&str>, flags: u32) -> Result<()> {
        check_flags("testDomainRestoreFlags", flags, 0)?;
        if dxml.is_some() {
            return Err(xml_modification_unsupported());
        }
        let def = read_image(from)?;
        self.state().with(|inner| {
            let running = (DomainState::Running, reason::RUNNING_RESTORED);
            let (dom, _) = inner.add_live(def, running, lifecycle::STARTED_RESTORED)?;
            inner.domains.get_mut(&dom)?.has_managed_save = false;
            Ok(())
        })
    }

    fn save_image_get_xml_desc(&self, file: &str, flags: u32) -> Result<String> {
        check_flags("testDomainSaveImageGetXMLDesc", flags, IMAGE_XML_SECURE)?;
        let def = read_image(file)?;
        Ok(def.format(&FormatOptions {
            id: None,
            inactive: false,
            secure: true,
        }))
    }

    fn save_image_define_xml(&self, file: &str, dxml: &str, flags: u32) -> Result<()> {
        check_flags("testDomainSaveImageDefineXML", flags, 2 | 4)?;
        read_image(file)?;
        let def = parse_domain(dxml)?;
        write_image(file, &def, None)
    }

    fn managed_save(&self, dom: &DomainRef, flags: u32) -> Result<()> {
        check_flags("testDomainManagedSave", flags, SAVE_FLAGS)?;
        self.state().with(|inner| {
            let obj = inner.domains.get_mut(dom)?;
            check_active(obj)?;
            if !obj.persistent {
                return Err(Error::operation_invalid(
                    ErrorDomain::TEST,
                    "cannot do managed save for transient domain",
                ));
            }
            let r = obj.domain_ref();
            obj.stop(reason::SHUTOFF_SAVED);
            obj.has_managed_save = true;
            inner.emit_lifecycle(r, lifecycle::STOPPED, lifecycle::STOPPED_SAVED);
            Ok(())
        })
    }

    fn managed_save_remove(&self, dom: &DomainRef, flags: u32) -> Result<()> {
        check_flags("testDomainManagedSaveRemove", flags, 0)?;
        self.state().with(|inner| {
            inner.domains.get_mut(dom)?.has_managed_save = false;
            Ok(())
        })
    }

    fn core_dump(&self, dom: &DomainRef, to: &str, format: u32, flags: u32) -> Result<()> {
        check_flags("testDomainCoreDumpWithFormat", flags, DUMP_CRASH)?;
        let dump = |name: &str| -> Result<()> {
            let mut file = create(to).map_err(|e| {
                system(format!("domain '{name}' coredump: failed to open {to}"), &e)
            })?;
            file.write_all(MAGIC).map_err(|e| {
                system(
                    format!("domain '{name}' coredump: failed to write header to {to}"),
                    &e,
                )
            })?;
            if format != 0 {
                return Err(Error::new(
                    ErrorDomain::TEST,
                    ErrorCode::OPERATION_UNSUPPORTED,
                    "kdump-compressed format is not supported here",
                ));
            }
            Ok(())
        };
        if flags & DUMP_CRASH == 0 {
            return self.read(dom, |obj| {
                check_active(obj)?;
                dump(&dom.name)
            });
        }
        self.stop(dom, |obj| {
            check_active(obj)?;
            dump(&dom.name)?;
            Ok((reason::SHUTOFF_CRASHED, lifecycle::STOPPED_CRASHED))
        })
    }
}
