//! rvirt's host facts in their REMOTE wire form and back, written once
//! for both ends: this driver's client calls and rvirtd's dispatch.

use rvirt::types::{NodeInfo, SecurityModel};
use rvirt_rpc::remote::{chars_to_string, string_to_chars};
use rvirt_rpc::remote::{NodeGetInfoRet, NodeGetSecurityModelRet};

/// `remote_node_get_info_ret` of `info` (the model truncated as libvirt does).
pub fn node_info_to_wire(info: &NodeInfo) -> NodeGetInfoRet {
    let mut ret = NodeGetInfoRet {
        memory: info.memory,
        cpus: info.cpus as i32,
        mhz: info.mhz as i32,
        nodes: info.nodes as i32,
        sockets: info.sockets as i32,
        cores: info.cores as i32,
        threads: info.threads as i32,
        ..Default::default()
    };
    ret.set_model(&info.model);
    ret
}

/// The [`NodeInfo`] a daemon sent.
pub fn node_info_from_wire(r: &NodeGetInfoRet) -> NodeInfo {
    NodeInfo {
        model: r.model_str(),
        memory: r.memory,
        cpus: r.cpus as u32,
        mhz: r.mhz as u32,
        nodes: r.nodes as u32,
        sockets: r.sockets as u32,
        cores: r.cores as u32,
        threads: r.threads as u32,
    }
}

/// `remote_node_get_security_model_ret` of `m`.
pub fn security_model_to_wire(m: &SecurityModel) -> NodeGetSecurityModelRet {
    NodeGetSecurityModelRet {
        model: string_to_chars(&m.model),
        doi: string_to_chars(&m.doi),
    }
}

/// The [`SecurityModel`] a daemon sent.
pub fn security_model_from_wire(r: &NodeGetSecurityModelRet) -> SecurityModel {
    SecurityModel {
        model: chars_to_string(&r.model),
        doi: chars_to_string(&r.doi),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_facts_survive_the_wire() {
        let info = NodeInfo {
            model: "x86_64".into(),
            memory: 8_388_608,
            cpus: 16,
            mhz: 2_400,
            nodes: 2,
            sockets: 1,
            cores: 4,
            threads: 2,
        };
        assert_eq!(node_info_from_wire(&node_info_to_wire(&info)), info);
        let long = NodeInfo {
            model: "m".repeat(40),
            ..info
        };
        assert_eq!(
            node_info_from_wire(&node_info_to_wire(&long)).model.len(),
            31
        );
        let m = SecurityModel {
            model: "dac".into(),
            doi: "0".into(),
        };
        assert_eq!(security_model_from_wire(&security_model_to_wire(&m)), m);
    }
}
