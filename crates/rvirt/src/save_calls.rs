//! The public save, restore, managed save and core dump calls
//! (libvirt-domain.c), with their argument checks; each file path is
//! made absolute here, in the caller's process, as libvirt does, since
//! the driver may run in a daemon with another working directory.

use crate::driver::SaveDriver;
use crate::tuning::arg_error;
use crate::{Connect, Domain};
use rvirt_util::{Error, ErrorDomain, Result};
use std::path::{Component, Path, PathBuf};

/// `VIR_DOMAIN_SAVE_RUNNING`, `VIR_DOMAIN_SAVE_PAUSED`.
const SAVE_RUNNING: u32 = 2;
const SAVE_PAUSED: u32 = 4;
/// `VIR_DUMP_CRASH`, `VIR_DUMP_LIVE`, `VIR_DUMP_RESET`.
const DUMP_CRASH: u32 = 1;
const DUMP_LIVE: u32 = 2;
const DUMP_RESET: u32 = 16;
/// `VIR_DOMAIN_CORE_DUMP_FORMAT_LAST`.
const CORE_DUMP_FORMATS: u32 = 5;

/// `g_canonicalize_filename(path, NULL)`: absolute against the working
/// directory, with `.`, `..` and repeated separators resolved by name.
pub fn canonical_path(path: &str) -> Result<String> {
    let joined = match Path::new(path).is_absolute() {
        true => PathBuf::from(path),
        false => std::env::current_dir()
            .map_err(|e| Error::system(ErrorDomain::NONE, "cannot get the working directory", &e))?
            .join(path),
    };
    let mut out = PathBuf::from("/");
    for part in joined.components() {
        match part {
            Component::ParentDir => {
                out.pop();
            }
            Component::Normal(name) => out.push(name),
            Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
        }
    }
    Ok(out.to_string_lossy().into_owned())
}

/// `VIR_EXCLUSIVE_FLAGS_GOTO`.
fn exclusive(flags: u32, (a, a_name): (u32, &str), (b, b_name): (u32, &str)) -> Result<()> {
    if flags & a != 0 && flags & b != 0 {
        return Err(arg_error(format!(
            "Flags '{a_name}' and '{b_name}' are mutually exclusive"
        )));
    }
    Ok(())
}

fn running_or_paused(flags: u32) -> Result<()> {
    let running = (SAVE_RUNNING, "VIR_DOMAIN_SAVE_RUNNING");
    exclusive(flags, running, (SAVE_PAUSED, "VIR_DOMAIN_SAVE_PAUSED"))
}

fn non_null<'a>(arg: Option<&'a str>, name: &str, api: &str) -> Result<&'a str> {
    arg.ok_or_else(|| arg_error(format!("{name} in {api} must not be NULL")))
}

fn save_driver<'a>(conn: &'a Connect, api: &str) -> Result<&'a dyn SaveDriver> {
    conn.driver()
        .save()
        .ok_or_else(|| crate::driver::unsupported(api))
}

impl Domain {
    /// `virDomainSave`.
    pub fn save(&self, to: Option<&str>) -> Result<()> {
        self.save_checked(to, None, 0, "virDomainSave")
    }

    /// `virDomainSaveFlags`.
    pub fn save_flags(&self, to: Option<&str>, dxml: Option<&str>, flags: u32) -> Result<()> {
        self.save_checked(to, dxml, flags, "virDomainSaveFlags")
    }

    fn save_checked(
        &self,
        to: Option<&str>,
        dxml: Option<&str>,
        flags: u32,
        api: &str,
    ) -> Result<()> {
        self.connect().check_writable(api)?;
        let to = non_null(to, "to", api)?;
        running_or_paused(flags)?;
        let d = save_driver(self.connect(), api)?;
        d.save(self.domain_ref(), &canonical_path(to)?, dxml, flags)
    }

    /// `virDomainManagedSave`.
    pub fn managed_save(&self, flags: u32) -> Result<()> {
        self.connect().check_writable("virDomainManagedSave")?;
        running_or_paused(flags)?;
        let d = save_driver(self.connect(), "virDomainManagedSave")?;
        d.managed_save(self.domain_ref(), flags)
    }

    /// `virDomainManagedSaveRemove`.
    pub fn managed_save_remove(&self, flags: u32) -> Result<()> {
        self.connect()
            .check_writable("virDomainManagedSaveRemove")?;
        let d = save_driver(self.connect(), "virDomainManagedSaveRemove")?;
        d.managed_save_remove(self.domain_ref(), flags)
    }

    /// `virDomainCoreDump`: the raw format.
    pub fn core_dump(&self, to: Option<&str>, flags: u32) -> Result<()> {
        self.dump_checked(to, 0, flags, "virDomainCoreDump")
    }

    /// `virDomainCoreDumpWithFormat`.
    pub fn core_dump_with_format(&self, to: Option<&str>, format: u32, flags: u32) -> Result<()> {
        const API: &str = "virDomainCoreDumpWithFormat";
        self.connect()
            .check_writable("virDomainCoreDumpWithFormat")?;
        non_null(to, "to", API)?;
        if format >= CORE_DUMP_FORMATS {
            return Err(arg_error(format!("dumpformat '{format}' is not supported")));
        }
        self.dump_checked(to, format, flags, API)
    }

    fn dump_checked(&self, to: Option<&str>, format: u32, flags: u32, api: &str) -> Result<()> {
        self.connect().check_writable(api)?;
        let to = non_null(to, "to", api)?;
        let (crash, live) = ((DUMP_CRASH, "VIR_DUMP_CRASH"), (DUMP_LIVE, "VIR_DUMP_LIVE"));
        let reset = (DUMP_RESET, "VIR_DUMP_RESET");
        exclusive(flags, crash, live)?;
        exclusive(flags, crash, reset)?;
        exclusive(flags, live, reset)?;
        let d = save_driver(self.connect(), api)?;
        d.core_dump(self.domain_ref(), &canonical_path(to)?, format, flags)
    }
}

impl Connect {
    /// `virDomainRestore`.
    pub fn restore(&self, from: Option<&str>) -> Result<()> {
        self.restore_checked(from, None, 0, "virDomainRestore")
    }

    /// `virDomainRestoreFlags`.
    pub fn restore_flags(&self, from: Option<&str>, dxml: Option<&str>, flags: u32) -> Result<()> {
        self.restore_checked(from, dxml, flags, "virDomainRestoreFlags")
    }

    fn restore_checked(
        &self,
        from: Option<&str>,
        dxml: Option<&str>,
        flags: u32,
        api: &str,
    ) -> Result<()> {
        self.check_writable(api)?;
        let from = non_null(from, "from", api)?;
        running_or_paused(flags)?;
        save_driver(self, api)?.restore(&canonical_path(from)?, dxml, flags)
    }

    /// `virDomainSaveImageGetXMLDesc`.
    pub fn save_image_get_xml_desc(&self, file: Option<&str>, flags: u32) -> Result<String> {
        const API: &str = "virDomainSaveImageGetXMLDesc";
        let file = non_null(file, "file", API)?;
        self.check_writable("virDomainSaveImageGetXMLDesc")?;
        save_driver(self, API)?.save_image_get_xml_desc(&canonical_path(file)?, flags)
    }

    /// `virDomainSaveImageDefineXML`.
    pub fn save_image_define_xml(
        &self,
        file: Option<&str>,
        dxml: Option<&str>,
        flags: u32,
    ) -> Result<()> {
        const API: &str = "virDomainSaveImageDefineXML";
        self.check_writable("virDomainSaveImageDefineXML")?;
        let file = non_null(file, "file", API)?;
        let dxml = non_null(dxml, "dxml", API)?;
        running_or_paused(flags)?;
        save_driver(self, API)?.save_image_define_xml(&canonical_path(file)?, dxml, flags)
    }
}

#[cfg(test)]
mod tests {
    use super::canonical_path;

    #[test]
    fn paths_are_made_absolute_by_name() {
        assert_eq!(canonical_path("/a//b/./c/../d/").unwrap(), "/a/b/d");
        assert_eq!(canonical_path("/..").unwrap(), "/");
        let cwd = std::env::current_dir().unwrap();
        assert_eq!(
            canonical_path("x").unwrap(),
            cwd.join("x").to_string_lossy()
        );
        assert_eq!(canonical_path("").unwrap(), cwd.to_string_lossy());
    }
}
