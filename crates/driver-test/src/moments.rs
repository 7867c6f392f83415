//! One domain's moments, snapshots or checkpoints (libvirt's
//! `virDomainMomentObjList`): the definitions, the parent/child tree they
//! form through their parent names, the current one, and the walks the
//! listing calls filter.

use rvirt_util::{Error, ErrorCode, ErrorDomain, Result};
use std::collections::{HashMap, HashSet};

/// What the list needs of a definition: its name and its parent's.
pub trait Moment {
    fn name(&self) -> &str;
    fn parent(&self) -> Option<&str>;
    fn set_parent(&mut self, parent: Option<&str>);
}

impl Moment for rvirt_conf::SnapshotDef {
    fn name(&self) -> &str {
        &self.name
    }
    fn parent(&self) -> Option<&str> {
        self.parent.as_deref()
    }
    fn set_parent(&mut self, parent: Option<&str>) {
        self.parent = parent.map(str::to_string);
    }
}

impl Moment for rvirt_conf::checkpoint::CheckpointDef {
    fn name(&self) -> &str {
        &self.name
    }
    fn parent(&self) -> Option<&str> {
        self.parent.as_deref()
    }
    fn set_parent(&mut self, parent: Option<&str>) {
        self.parent = parent.map(str::to_string);
    }
}

/// Each moment's children, by parent name (`None`: the roots).
pub struct Tree<'a, D> {
    roots: Vec<&'a D>,
    kids: HashMap<&'a str, Vec<&'a D>>,
}

impl<'a, D: Moment> Tree<'a, D> {
    pub fn children(&self, parent: Option<&str>) -> &[&'a D] {
        match parent {
            None => &self.roots,
            Some(p) => self.kids.get(p).map_or(&[], Vec::as_slice),
        }
    }

    pub fn descendants(&self, parent: Option<&str>) -> Vec<&'a D> {
        let mut out = Vec::new();
        let mut stack: Vec<&D> = self.children(parent).iter().rev().copied().collect();
        while let Some(d) = stack.pop() {
            out.push(d);
            stack.extend(self.children(Some(d.name())).iter().rev());
        }
        out
    }
}

pub struct MomentList<D> {
    /// In the order they were added (libvirt's hash walk order stands in).
    defs: Vec<D>,
    current: Option<String>,
}

impl<D> Default for MomentList<D> {
    fn default() -> Self {
        MomentList {
            defs: Vec::new(),
            current: None,
        }
    }
}

impl<D: Moment> MomentList<D> {
    pub fn is_empty(&self) -> bool {
        self.defs.is_empty()
    }

    pub fn len(&self) -> usize {
        self.defs.len()
    }

    pub fn get(&self, name: &str) -> Option<&D> {
        self.defs.iter().find(|d| d.name() == name)
    }

    pub fn get_mut(&mut self, name: &str) -> Option<&mut D> {
        self.defs.iter_mut().find(|d| d.name() == name)
    }

    pub fn current(&self) -> Option<&str> {
        self.current.as_deref()
    }

    pub fn set_current(&mut self, name: Option<&str>) {
        self.current = name.map(str::to_string);
    }

    /// `virDomainMomentAssignDef`: refuses a name already taken.
    pub fn add(&mut self, def: D) -> Result<()> {
        if self.get(def.name()).is_some() {
            return Err(Error::new(
                ErrorDomain::DOMAIN,
                ErrorCode::OPERATION_FAILED,
                format!("domain moment {} already exists", def.name()),
            ));
        }
        self.defs.push(def);
        Ok(())
    }

    /// Replace the definition of an existing moment (children stay).
    /// libvirt links it to its parent again, first among the siblings, as
    /// if it were new.
    pub fn replace(&mut self, def: D) {
        self.defs.retain(|d| d.name() != def.name());
        self.defs.push(def);
    }

    /// The tree in one pass: each moment under its parent, or under the
    /// root (`None`) when it has none or its parent is missing (libvirt
    /// links such a moment to the root). Siblings come most recent first,
    /// as libvirt prepends each new child to its parent's list.
    pub fn tree(&self) -> Tree<'_, D> {
        let known: HashSet<&str> = self.defs.iter().map(|d| d.name()).collect();
        let mut tree = Tree {
            roots: Vec::new(),
            kids: HashMap::new(),
        };
        for d in self.defs.iter().rev() {
            match d.parent().filter(|p| known.contains(p)) {
                Some(p) => tree.kids.entry(p).or_default().push(d),
                None => tree.roots.push(d),
            }
        }
        tree
    }

    /// The children of `parent` (`None`: the roots).
    pub fn children(&self, parent: Option<&str>) -> Vec<&D> {
        self.tree().children(parent).to_vec()
    }

    /// Every descendant of `parent` (`None`: every moment), depth first.
    pub fn descendants(&self, parent: Option<&str>) -> Vec<&D> {
        self.tree().descendants(parent)
    }

    /// `virDomainMomentObjListGetNames`' walk from `from` (`None`: the
    /// domain): its descendants (every moment in list order from the
    /// domain unless `topological`) or its children, those `keeps` (given
    /// each one's number of children) accepts.
    pub fn names_where(
        &self,
        from: Option<&str>,
        descendants: bool,
        topological: bool,
        keeps: impl Fn(&D, usize) -> bool,
    ) -> Vec<String> {
        let tree = self.tree();
        let walk = match (descendants, from) {
            (true, None) if !topological => self.defs.iter().collect(),
            (true, _) => tree.descendants(from),
            (false, _) => tree.children(from).to_vec(),
        };
        walk.into_iter()
            .filter(|d| keeps(d, tree.children(Some(d.name())).len()))
            .map(|d| d.name().to_string())
            .collect()
    }

    /// Remove one moment; true if it was current (which it no longer is).
    pub fn remove(&mut self, name: &str) -> bool {
        self.defs.retain(|d| d.name() != name);
        let was = self.current.as_deref() == Some(name);
        if was {
            self.current = None;
        }
        was
    }

    /// Re-parent every child of `name` to `parent`.
    pub fn reparent_children(&mut self, name: &str, parent: Option<&str>) {
        for d in self.defs.iter_mut() {
            if d.parent() == Some(name) {
                d.set_parent(parent);
            }
        }
    }

    /// `virDomainMomentCheckCycles` for a definition about to be (re)defined.
    pub fn check_cycles(&self, def: &D, domname: &str) -> Result<()> {
        let Some(parent) = def.parent() else {
            return Ok(());
        };
        let invalid = |m: String| Error::invalid_arg(ErrorDomain::DOMAIN, m);
        if parent == def.name() {
            return Err(invalid(format!(
                "cannot set moment {} as its own parent",
                def.name()
            )));
        }
        let Some(mut other) = self.get(parent) else {
            return Err(invalid(format!(
                "parent {parent} for moment {} not found",
                def.name()
            )));
        };
        let mut steps = 0;
        while let Some(up) = other.parent() {
            if up == def.name() {
                return Err(invalid(format!(
                    "parent {} would create cycle to {}",
                    other.name(),
                    def.name()
                )));
            }
            steps += 1;
            match self.get(up) {
                Some(next) if steps <= self.defs.len() => other = next,
                _ => {
                    tracing::warn!("moments are inconsistent for domain {domname}");
                    break;
                }
            }
        }
        Ok(())
    }

    /// `virDomainMomentUpdateRelations`: every parent exists and no chain
    /// of parents loops.
    pub fn check_relations(&self) -> std::result::Result<(), ()> {
        for d in &self.defs {
            let mut at = d;
            let mut steps = 0;
            while let Some(p) = at.parent() {
                steps += 1;
                if p == d.name() || steps > self.defs.len() {
                    return Err(());
                }
                at = self.get(p).ok_or(())?;
            }
        }
        Ok(())
    }
}
