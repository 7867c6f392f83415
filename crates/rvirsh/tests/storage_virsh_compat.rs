//! virsh 9.0's storage pool and volume commands: rvirsh beside stock virsh
//! on `test:///default`, and stock virsh against rvirtd beside stock virsh
//! against libvirtd (`test+tcp://`), each case one command string (the
//! test host lives for one invocation), compared on stdout, stderr and
//! exit status, the uuids of new pools aside. Bad names, bad XML, bad
//! sizes and the test driver's refusals included.

use rvirt_testkit::daemon::Daemon;
use rvirt_testkit::tools::{
    assert_none_differ, assert_shells_agree, diff, virsh, virsh_read_only, Normalise,
};
use std::path::PathBuf;

const RULES: &[Normalise] = &[Normalise::Uuid];

/// The documents the cases read, in a directory of their own.
struct Files {
    dir: PathBuf,
}

impl Files {
    /// `tag`: one directory per test, as the tests run at once.
    fn write(tag: &str) -> Files {
        let dir = std::env::temp_dir().join(format!("rvirsh-storage-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let docs = [
            (
                "pool.xml",
                "<pool type='dir'><name>p1</name><target><path>/p1/</path>\
              <permissions><mode>0711</mode><owner>107</owner></permissions></target></pool>",
            ),
            ("bad.xml", "<pool type='dir'><name>x</name>"),
            ("badtype.xml", "<pool type='nope'><name>x</name></pool>"),
            ("nopath.xml", "<pool type='dir'><name>x</name></pool>"),
            ("notpool.xml", "<volume><name>x</name></volume>"),
            (
                "logical.xml",
                "<pool type='logical'><source><name>vg0</name>\
              <device path='/dev/sdz1'/></source></pool>",
            ),
            (
                "netfs.xml",
                "<pool type='netfs'><name>nfs</name><source><host name='nas' port='2049'/>\
              <dir path='/export//a/'/><format type='nfs'/><protocol ver='4'/></source>\
              <target><path>/mnt/nfs</path></target></pool>",
            ),
            (
                "iscsi.xml",
                "<pool type='iscsi'><name>is</name><source><host name='t'/>\
              <device path='iqn.x'/><initiator><iqn name='iqn.i'/></initiator>\
              <auth type='chap' username='u'><secret usage='s'/></auth></source>\
              <target><path>/dev/disk/by-path</path></target></pool>",
            ),
            (
                "scsi.xml",
                "<pool type='scsi'><name>hba</name><source>\
              <adapter type='fc_host' wwnn='20000000c9831b4b' wwpn='10000000c9831b4b'/>\
              </source><target><path>/dev/disk/by-path</path></target></pool>",
            ),
            (
                "vol.xml",
                "<volume><name>v9</name><capacity unit='G'>2</capacity>\
              <allocation unit='M'>100</allocation><target><format type='qcow2'/>\
              <permissions><mode>0600</mode></permissions><compat>1.1</compat>\
              <features><lazy_refcounts/></features></target></volume>",
            ),
            ("badvol.xml", "<volume><name>v</name></volume>"),
            (
                "clone.xml",
                "<volume><name>c1</name><capacity>1024</capacity></volume>",
            ),
            ("src.xml", "<source><host name='filer'/></source>"),
        ];
        for (name, text) in docs {
            std::fs::write(dir.join(name), text).unwrap();
        }
        Files { dir }
    }

    fn path(&self, name: &str) -> String {
        self.dir.join(name).display().to_string()
    }
}

impl Drop for Files {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn cases(f: &Files) -> Vec<String> {
    let p = |n: &str| f.path(n);
    let mut c: Vec<String> = [
        "pool-list",
        "pool-list --all",
        "pool-list --details",
        "pool-list --all --details --type dir,logical",
        "pool-list --uuid",
        "pool-list --name --uuid",
        "pool-list --inactive --all",
        "pool-list --details --name",
        "pool-list --type foo",
        "pool-list --transient; pool-list --persistent; pool-list --autostart; pool-list --no-autostart",
        "pool-info default-pool",
        "pool-info default-pool --bytes",
        "pool-info dfe224cb-28fb-8dd0-c4b2-64eb3f0f4566",
        "pool-info nosuch",
        "pool-dumpxml default-pool",
        "pool-dumpxml default-pool --inactive",
        "pool-dumpxml default-pool --xpath //path",
        "pool-dumpxml nosuch",
        "pool-name dfe224cb-28fb-8dd0-c4b2-64eb3f0f4566",
        "pool-name default-pool",
        "pool-uuid default-pool",
        "pool-uuid dfe224cb-28fb-8dd0-c4b2-64eb3f0f4566",
        "pool-autostart default-pool; pool-info default-pool; pool-autostart default-pool --disable",
        "pool-refresh default-pool",
        "pool-build default-pool",
        "pool-delete default-pool",
        "pool-undefine default-pool",
        "pool-start default-pool",
        "pool-destroy default-pool; pool-list --all --details; pool-info default-pool; \
         vol-list default-pool; pool-build default-pool; pool-delete default-pool; \
         pool-start default-pool --build; pool-start default-pool; pool-list",
        "pool-destroy default-pool; pool-undefine default-pool; pool-list --all",
        "pool-define-as p2 dir --target /tmp/p2 --print-xml",
        "pool-define-as p2 dir --target /tmp/p2; pool-list --all --details; pool-dumpxml p2; \
         pool-start p2; pool-autostart p2; pool-list --all --autostart; pool-destroy p2; pool-undefine p2",
        "pool-define-as p2 dir",
        "pool-define-as p2 bogus --target /x",
        "pool-define-as p2 dir --target /default-pool",
        "pool-define-as lv logical --source-name vg --source-dev /dev/sdb --print-xml",
        "pool-define-as lv logical --source-name vg --source-dev /dev/sdb; pool-dumpxml lv",
        "pool-define-as n netfs --source-host h --source-path /e --target /m --source-format nfs \
         --source-protocol-ver 3; pool-dumpxml n",
        "pool-define-as s scsi --adapter-name host0 --target /dev/disk/by-path; pool-dumpxml s",
        "pool-define-as i iscsi --source-host h --source-dev iqn.t --target /dev/disk/by-path \
         --auth-type chap --auth-username u --secret-usage x --source-initiator iqn.i; pool-dumpxml i",
        "pool-define-as x dir --secret-usage a --secret-uuid b",
        "pool-create-as t dir --target /t; pool-list --all --details; pool-autostart t; \
         pool-destroy t; pool-list --all",
        "pool-create-as t dir --target /t --build",
        "pool-create-as t dir --target /t --overwrite --no-overwrite",
        "pool-create-as default-pool dir --target /elsewhere",
        "vol-list default-pool",
        "vol-list default-pool --details",
        "vol-list nosuch",
        "vol-create-as default-pool v1 10M; vol-create-as default-pool A2 1G --allocation 0 --format qcow2; \
         vol-list default-pool --details; vol-info v1 --pool default-pool; vol-info /default-pool/A2; \
         vol-info A2 --pool default-pool --bytes; vol-dumpxml v1 --pool default-pool; \
         vol-dumpxml /default-pool/A2; pool-info default-pool",
        "vol-create-as default-pool v 10Q",
        "vol-create-as default-pool v -5",
        "vol-create-as default-pool v 1M --allocation x",
        "vol-create-as default-pool v 200G",
        "vol-create-as default-pool v 1M --prealloc-metadata",
        "vol-create-as default-pool v 1M --format bogus",
        "vol-create-as default-pool v 1M --format none",
        "vol-create-as default-pool v 1M --backing-vol nope",
        "vol-create-as default-pool v 1M --print-xml --allocation 0 --format qcow2",
        "vol-create-as default-pool a 1M; vol-create-as default-pool b 1M --backing-vol a \
         --backing-vol-format raw --print-xml; vol-create-as default-pool b 1M --backing-vol a; \
         vol-dumpxml b --pool default-pool",
        "vol-create-as default-pool a 1M; vol-create-as default-pool a 1M",
        "vol-create-as nosuch v 1M",
        "vol-create-as default-pool a 1M; vol-clone a c --pool default-pool --print-xml; \
         vol-clone a c --pool default-pool; vol-clone /default-pool/a d; vol-list default-pool",
        "vol-clone a c",
        "vol-create-as default-pool a 1M; vol-key a --pool default-pool; vol-path a --pool default-pool; \
         vol-name /default-pool/a; vol-pool /default-pool/a; vol-pool /default-pool/a --uuid; \
         vol-key /default-pool/a; vol-path /default-pool/a",
        "vol-key a; vol-name a; vol-pool a; vol-path x --pool nosuch",
        "vol-create-as default-pool a 1M; vol-delete a; vol-delete /default-pool/a; \
         vol-delete a --pool default-pool; vol-list default-pool; pool-info default-pool --bytes",
        "vol-create-as default-pool a 1M; vol-delete a --pool default-pool --delete-snapshots",
        "vol-create-as default-pool a 1M; vol-wipe a --pool default-pool; \
         vol-wipe a --pool default-pool --algorithm foo; vol-wipe a --pool default-pool --algorithm nnsa",
        "vol-create-as default-pool a 1M; vol-resize a 2M --pool default-pool; \
         vol-resize a -1 --pool default-pool; vol-resize a -1M --pool default-pool --shrink; \
         vol-resize a 1Q --pool default-pool; vol-resize a --delta 5 --pool default-pool",
        "vol-create-as default-pool a 1M; vol-info a --pool default-pool --physical",
        "vol-info nosuch; vol-info nosuch --pool default-pool; vol-dumpxml nosuch --pool default-pool",
        "pool-destroy default-pool; vol-info a --pool default-pool; vol-create-as default-pool a 1M",
        "pool-capabilities",
        "find-storage-pool-sources logical",
        "find-storage-pool-sources-as netfs --host filer; find-storage-pool-sources-as netfs",
        "find-storage-pool-sources dir; find-storage-pool-sources fs; find-storage-pool-sources bogus",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    c.extend([
        format!("pool-define {0}; pool-list --all --details; pool-dumpxml p1; pool-define {0}; \
                 pool-start p1; vol-create {1} p1; vol-list p1 --details; vol-dumpxml v9 --pool p1; \
                 vol-create-from p1 {2} v9 --inputpool p1; vol-list p1; pool-info p1",
                p("pool.xml"), p("vol.xml"), p("clone.xml")),
        format!("vol-create default-pool {}", p("badvol.xml")),
        format!("vol-create default-pool {}", p("notpool.xml")),
        format!("vol-create default-pool {}", p("missing.xml")),
        format!("vol-create-from default-pool {} nosuch", p("clone.xml")),
        format!("pool-define {}", p("bad.xml")),
        format!("pool-define {}", p("badtype.xml")),
        format!("pool-define {}", p("nopath.xml")),
        format!("pool-define {}", p("notpool.xml")),
        format!("pool-define {}", p("missing.xml")),
        format!("pool-create {}", p("missing.xml")),
        format!("pool-create {0}; pool-create {0}; pool-list --transient", p("pool.xml")),
        format!("pool-define {}; pool-dumpxml vg0; pool-info vg0", p("logical.xml")),
        format!("pool-define {}; pool-dumpxml nfs", p("netfs.xml")),
        format!("pool-define {}; pool-dumpxml is", p("iscsi.xml")),
        format!("pool-define {}; pool-dumpxml hba", p("scsi.xml")),
        format!("find-storage-pool-sources netfs {}", p("src.xml")),
        format!("vol-create-as default-pool a 1M; vol-upload a {0} --pool default-pool; \
                 vol-upload a {0} --pool default-pool --offset 5 --length 3 --sparse; \
                 vol-upload a {1} --pool default-pool; vol-upload nosuch {0}; \
                 vol-upload a {0} --pool default-pool --offset -1",
                p("src.xml"), p("missing.xml")),
        format!("vol-create-as default-pool a 1M; vol-download a {0} --pool default-pool; \
                 vol-download /default-pool/a {0} --length -1; vol-download a /nonexistent/dir/f \
                 --pool default-pool; vol-list default-pool",
                p("download.out")),
    ]);
    c
}

#[test]
fn storage_commands_match_virsh() {
    if !rvirt_testkit::tools::have_virsh() {
        eprintln!("stock virsh not installed (scripts/install-deps.sh): skipping");
        return;
    }
    let files = Files::write("virsh");
    let cases = cases(&files);
    assert_shells_agree("test:///default", &cases, RULES);
}

/// Stock virsh against rvirtd and against libvirtd, the same command
/// strings: the daemon side of every call (rpc, read-only rules, errors).
#[test]
fn storage_commands_match_through_rvirtd_and_libvirtd() {
    if !rvirt_testkit::tools::have_virsh() {
        return;
    }
    let Some(stock) = Daemon::libvirtd() else {
        eprintln!("stock libvirtd unavailable: skipping");
        return;
    };
    let ours = Daemon::rvirtd("");
    let files = Files::write("daemons");
    let cases = cases(&files);
    let mut failures = Vec::new();
    for c in &cases {
        let want = virsh(&stock.tcp_uri(), c).normalised(RULES);
        let got = virsh(&ours.tcp_uri(), c).normalised(RULES);
        failures.extend(diff(c, ("libvirtd", &want), ("rvirtd", &got)));
    }
    // Read-only connections refuse what the public API refuses.
    let ro = [
        "pool-define-as p dir --target /p",
        "pool-destroy default-pool",
        "vol-create-as default-pool v 1M",
        "pool-list --all --details; vol-list default-pool",
        "find-storage-pool-sources logical",
    ];
    for c in ro {
        let want = virsh_read_only(&stock.tcp_uri(), c);
        let got = virsh_read_only(&ours.tcp_uri(), c);
        failures.extend(diff(
            &format!("-r {c}"),
            ("libvirtd", &want),
            ("rvirtd", &got),
        ));
    }
    eprintln!(
        "{} command strings through both daemons",
        cases.len() + ro.len()
    );
    assert_none_differ(&failures, cases.len() + ro.len(), &ours.log());
}

/// `help pool` and `help volume` list the groups as virsh does (for the
/// commands rvirsh carries).
#[test]
fn storage_help_groups_name_virsh_commands() {
    if !rvirt_testkit::tools::have_virsh() {
        return;
    }
    for g in ["pool", "volume"] {
        let want = virsh("test:///default", &format!("help {g}"));
        let got = rvirt_testkit::tools::rvirsh("test:///default", &format!("help {g}"));
        for line in got.stdout.lines() {
            assert!(want.stdout.lines().any(|l| l == line), "{g}: {line}");
        }
    }
}

/// pool-edit with `$EDITOR` scripts: a new target path (a running pool
/// keeps its definition in the test driver), no change, a broken
/// document (virsh without a terminal reports "Failed." and goes on).
#[test]
fn pool_edit_matches_virsh() {
    if !rvirt_testkit::tools::have_virsh() {
        return;
    }
    let files = Files::write("edit");
    let editors = [
        ("path", "sed -i 's|/default-pool<|/elsewhere<|' \"$1\""),
        ("none", "true"),
        ("broken", "sed -i 's|</pool>||' \"$1\""),
    ];
    let commands =
        "vol-create-as default-pool a 1M; pool-edit default-pool; pool-dumpxml default-pool; \
                    pool-destroy default-pool; pool-edit default-pool; pool-dumpxml default-pool; \
                    pool-edit nosuch";
    rvirt_testkit::tools::assert_editors_agree(&files.dir, &editors, commands, RULES);
}

/// Pools and volumes a node description gives (libvirt's testParseStorage:
/// running, persistent, volumes accounted), inline and from `file=`.
#[test]
fn node_file_pools_match_virsh() {
    if !rvirt_testkit::tools::have_virsh() {
        return;
    }
    let files = Files::write("node");
    std::fs::write(
        files.dir.join("vol3.xml"),
        "<volume><name>v3</name><capacity unit='K'>4</capacity></volume>",
    )
    .unwrap();
    std::fs::write(
        files.dir.join("node.xml"),
        "<node><cpu><mhz>1000</mhz></cpu><memory>1048576</memory>\
         <pool type='dir'><name>np</name><uuid>35bb2ad9-388a-cdfe-461a-b8907f6e53fe</uuid>\
         <target><path>/np</path></target>\
         <volume><name>v1</name><capacity unit='M'>2</capacity><allocation>1024</allocation></volume>\
         <volume><name>v2</name><key>k2</key><capacity>10</capacity><target><path>/elsewhere/v2</path>\
         <format type='qcow2'/></target></volume>\
         <volume file='vol3.xml'/></pool>\
         <pool type='logical'><name>vg</name><source><device path='/dev/sdq'/></source></pool>\
         </node>",
    )
    .unwrap();
    let uri = format!("test://{}", files.path("node.xml"));
    let cases = [
        "pool-list --all --details; pool-info np; pool-dumpxml np; pool-dumpxml vg",
        "vol-list np --details; vol-dumpxml v2 --pool np; vol-key v2 --pool np; vol-name k2; \
         vol-path k2; vol-info /np/v3; vol-list vg",
        "vol-create-as np v4 1M; pool-info np --bytes; vol-delete v1 --pool np; pool-info np --bytes",
    ];
    assert_shells_agree(&uri, &cases, RULES);
}
