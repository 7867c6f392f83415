//! The test driver's interface driver (libvirt's testInterface*,
//! src/test/test_driver.c): define, undefine, start and stop of host
//! interfaces kept in memory, and the change transaction. As in libvirt,
//! `virInterfaceChangeBegin` copies the definitions only (its
//! `virInterfaceObjListClone` goes through XML), so a rollback leaves
//! every interface inactive.

use crate::check_flags;
use crate::connection::TestConnection;
use crate::host_objects::{IfaceObj, IfaceState};
use rvirt::driver::{InterfaceDriver, InterfaceRef};
use rvirt::interface::list_flags;
use rvirt_conf::host_iface::HostInterfaceDef;
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result};

fn no_interface(what: &str, value: &str) -> Error {
    Error::new(
        ErrorDomain::TEST,
        ErrorCode::NO_INTERFACE,
        format!("no interface with matching {what} '{value}'"),
    )
}

fn invalid(msg: Option<&str>) -> Error {
    match msg {
        Some(m) => Error::operation_invalid(ErrorDomain::TEST, m),
        None => Error::bare(ErrorDomain::TEST, ErrorCode::OPERATION_INVALID),
    }
}

fn reference(def: &HostInterfaceDef) -> InterfaceRef {
    InterfaceRef {
        name: def.name.clone(),
        mac: def.mac.clone().unwrap_or_default(),
    }
}

impl TestConnection {
    fn ifaces<R>(&self, f: impl FnOnce(&mut IfaceState) -> Result<R>) -> Result<R> {
        f(&mut self.state().host_objects.ifaces.lock())
    }

    /// Run `f` on the interface `name`, or libvirt's not-found error.
    fn iface<R>(&self, name: &str, f: impl FnOnce(&mut IfaceObj) -> Result<R>) -> Result<R> {
        self.ifaces(|s| {
            let obj = s
                .list
                .iter_mut()
                .find(|o| o.def.name == name)
                .ok_or_else(|| no_interface("name", name))?;
            f(obj)
        })
    }

    fn names(&self, active: bool, max: usize) -> Result<Vec<String>> {
        self.ifaces(|s| {
            Ok(s.list
                .iter()
                .filter(|o| o.active == active)
                .take(max)
                .map(|o| o.def.name.clone())
                .collect())
        })
    }
}

impl InterfaceDriver for TestConnection {
    fn num_of_interfaces(&self) -> Result<i32> {
        Ok(self.names(true, usize::MAX)?.len() as i32)
    }
    fn list_interfaces(&self, max: usize) -> Result<Vec<String>> {
        self.names(true, max)
    }
    fn num_of_defined_interfaces(&self) -> Result<i32> {
        Ok(self.names(false, usize::MAX)?.len() as i32)
    }
    fn list_defined_interfaces(&self, max: usize) -> Result<Vec<String>> {
        self.names(false, max)
    }
    fn list_all(&self, flags: u32) -> Result<Vec<InterfaceRef>> {
        let filters = list_flags::ACTIVE | list_flags::INACTIVE;
        check_flags("testConnectListAllInterfaces", flags, filters)?;
        self.ifaces(|s| {
            Ok(s.list
                .iter()
                .filter(|o| {
                    flags & filters == 0
                        || (o.active && flags & list_flags::ACTIVE != 0)
                        || (!o.active && flags & list_flags::INACTIVE != 0)
                })
                .map(|o| reference(&o.def))
                .collect())
        })
    }
    fn lookup_by_name(&self, name: &str) -> Result<InterfaceRef> {
        self.iface(name, |o| Ok(reference(&o.def)))
    }
    fn lookup_by_mac(&self, mac: &str) -> Result<InterfaceRef> {
        self.ifaces(|s| {
            let found: Vec<&IfaceObj> = s
                .list
                .iter()
                // libvirt compares with g_ascii_strcasecmp, which answers
                // "equal" for an interface without MAC (a NULL string).
                .filter(|o| {
                    o.def
                        .mac
                        .as_deref()
                        .is_none_or(|m| m.eq_ignore_ascii_case(mac))
                })
                .collect();
            match found.as_slice() {
                [] => Err(no_interface("mac", mac)),
                [one] => Ok(InterfaceRef {
                    name: one.def.name.clone(),
                    mac: mac.to_string(),
                }),
                _ => Err(Error::bare(
                    ErrorDomain::TEST,
                    ErrorCode::MULTIPLE_INTERFACES,
                )),
            }
        })
    }
    fn get_xml_desc(&self, iface: &InterfaceRef, flags: u32) -> Result<String> {
        check_flags("testInterfaceGetXMLDesc", flags, 0)?;
        self.iface(&iface.name, |o| Ok(o.def.format()))
    }
    fn define_xml(&self, xml: &str, flags: u32) -> Result<InterfaceRef> {
        check_flags("testInterfaceDefineXML", flags, 1)?;
        let def = HostInterfaceDef::parse(xml)?;
        let r = reference(&def);
        self.ifaces(|s| {
            match s.list.iter_mut().find(|o| o.def.name == def.name) {
                Some(obj) => obj.def = def,
                None => s.list.push(IfaceObj { def, active: false }),
            }
            Ok(r)
        })
    }
    fn undefine(&self, iface: &InterfaceRef) -> Result<()> {
        self.iface(&iface.name, |_| Ok(()))?;
        self.ifaces(|s| {
            s.list.retain(|o| o.def.name != iface.name);
            Ok(())
        })
    }
    fn create(&self, iface: &InterfaceRef, flags: u32) -> Result<()> {
        check_flags("testInterfaceCreate", flags, 0)?;
        self.iface(&iface.name, |o| {
            if o.active {
                return Err(invalid(None));
            }
            o.active = true;
            Ok(())
        })
    }
    fn destroy(&self, iface: &InterfaceRef, flags: u32) -> Result<()> {
        check_flags("testInterfaceDestroy", flags, 0)?;
        self.iface(&iface.name, |o| {
            if !o.active {
                return Err(invalid(None));
            }
            o.active = false;
            Ok(())
        })
    }
    fn is_active(&self, iface: &InterfaceRef) -> Result<bool> {
        self.iface(&iface.name, |o| Ok(o.active))
    }
    fn change_begin(&self, flags: u32) -> Result<()> {
        check_flags("testInterfaceChangeBegin", flags, 0)?;
        self.ifaces(|s| {
            if s.backup.is_some() {
                return Err(invalid(Some("there is another transaction running.")));
            }
            let copy = s
                .list
                .iter()
                .map(|o| IfaceObj {
                    def: o.def.clone(),
                    active: false,
                })
                .collect();
            s.backup = Some(copy);
            Ok(())
        })
    }
    fn change_commit(&self, flags: u32) -> Result<()> {
        check_flags("testInterfaceChangeCommit", flags, 0)?;
        self.ifaces(|s| match s.backup.take() {
            Some(_) => Ok(()),
            None => Err(invalid(Some(
                "no transaction running, nothing to be committed.",
            ))),
        })
    }
    fn change_rollback(&self, flags: u32) -> Result<()> {
        check_flags("testInterfaceChangeRollback", flags, 0)?;
        self.ifaces(|s| match s.backup.take() {
            Some(saved) => {
                s.list = saved;
                Ok(())
            }
            None => Err(invalid(Some(
                "no transaction running, nothing to rollback.",
            ))),
        })
    }
}
