//! Users and groups as libvirt names them (`virGetUserID`,
//! `virGetGroupID`, `virParseOwnershipIds`, `virGetGroupList`): a name
//! first, then a number; a leading `+` means a number only.

use nix::unistd::{Gid, Group, Uid, User};
use rvirt_util::{Error, ErrorDomain, Result};
use std::ffi::CString;

/// `virGetUserID`: `user` as a name, else as a number (`+N`: a number).
pub fn user_id(user: &str) -> Result<u32> {
    id_of(user, "user", |name| {
        User::from_name(name).ok().flatten().map(|u| u.uid.as_raw())
    })
}

/// `virGetGroupID`: as [`user_id`] for groups.
pub fn group_id(group: &str) -> Result<u32> {
    id_of(group, "group", |name| {
        Group::from_name(name)
            .ok()
            .flatten()
            .map(|g| g.gid.as_raw())
    })
}

/// The id `text` names for `what` ("user", "group"): looked up as a name
/// unless it starts with `+`, else parsed as a number.
fn id_of(text: &str, what: &str, lookup: impl Fn(&str) -> Option<u32>) -> Result<u32> {
    let number = match text.strip_prefix('+') {
        Some(n) => n,
        None => match lookup(text) {
            Some(id) => return Ok(id),
            None => text,
        },
    };
    number.parse().map_err(|_| {
        Error::invalid_arg(
            ErrorDomain::NONE,
            format!("Failed to parse {what} '{number}'"),
        )
    })
}

/// `virParseOwnershipIds`: `USER:GROUP` (names or `+N`) to ids.
pub fn parse_ownership(label: &str) -> Result<(u32, u32)> {
    let Some((user, group)) = label.split_once(':') else {
        return Err(Error::invalid_arg(
            ErrorDomain::NONE,
            format!("Failed to parse uid and gid from '{label}'"),
        ));
    };
    Ok((user_id(user)?, group_id(group)?))
}

/// A DAC label as libvirt writes it: `+UID:+GID`.
pub fn format_ownership(uid: u32, gid: u32) -> String {
    format!("+{uid}:+{gid}")
}

/// `virGetGroupList`: the supplementary groups a process running as
/// `uid` gets, `gid` among them (just `gid` for a uid without a
/// passwd entry).
pub fn group_list(uid: u32, gid: u32) -> Vec<u32> {
    let user = User::from_uid(Uid::from_raw(uid)).ok().flatten();
    let mut groups: Vec<u32> = user
        .and_then(|u| {
            let name = CString::new(u.name).ok()?;
            nix::unistd::getgrouplist(&name, Gid::from_raw(gid)).ok()
        })
        .map(|list| list.into_iter().map(Gid::as_raw).collect())
        .unwrap_or_default();
    if !groups.contains(&gid) {
        groups.insert(0, gid);
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_numbers_and_plus_numbers() {
        assert_eq!(user_id("root").unwrap(), 0);
        assert_eq!(user_id("+0").unwrap(), 0);
        assert_eq!(user_id("4242").unwrap(), 4242);
        assert_eq!(group_id("+17").unwrap(), 17);
        assert_eq!(group_id("root").unwrap(), 0);
        let err = user_id("+root").unwrap_err();
        assert_eq!(err.message, "invalid argument: Failed to parse user 'root'");
        let err = group_id("no-such-group-x").unwrap_err();
        assert_eq!(
            err.message,
            "invalid argument: Failed to parse group 'no-such-group-x'"
        );
    }

    #[test]
    fn ownership_labels() {
        assert_eq!(parse_ownership("+107:+108").unwrap(), (107, 108));
        assert_eq!(parse_ownership("root:root").unwrap(), (0, 0));
        assert_eq!(format_ownership(107, 108), "+107:+108");
        let err = parse_ownership("107").unwrap_err();
        assert_eq!(
            err.message,
            "invalid argument: Failed to parse uid and gid from '107'"
        );
    }

    #[test]
    fn group_list_holds_the_primary_group() {
        assert!(group_list(0, 0).contains(&0));
        // A uid without a passwd entry gets its group alone.
        assert_eq!(group_list(3_999_999, 3_999_998), vec![3_999_998]);
    }
}
