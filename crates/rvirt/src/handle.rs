//! What every handle named by a name and a UUID (`self.r`: a domain's,
//! network's or storage pool's identity) answers without its driver.

/// `name`, `uuid` and `uuid_string` of a handle, documented as libvirt's
/// `PREFIXGetName`, `PREFIXGetUUID` and `PREFIXGetUUIDString`.
macro_rules! identity_getters {
    ($prefix:literal) => {
        #[doc = concat!("`", $prefix, "GetName`.")]
        pub fn name(&self) -> &str {
            &self.r.name
        }
        #[doc = concat!("`", $prefix, "GetUUID`.")]
        pub fn uuid(&self) -> &[u8; 16] {
            &self.r.uuid
        }
        #[doc = concat!("`", $prefix, "GetUUIDString`.")]
        pub fn uuid_string(&self) -> String {
            self.r.uuid_string()
        }
    };
}
pub(crate) use identity_getters;
