//! Multithread compression of pages, as QEMU's `compress` capability does
//! it: each normal page is deflated on its own (zlib format) by one of
//! `compress-threads` workers; the destination inflates with
//! `decompress-threads` workers. A page that would not shrink travels raw,
//! zero pages stay markers.

use super::memory::{page_hash, zero_page_hash, PAGE_SIZE};
use super::wire::{malformed, Page, PageData};
use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};
use rvirt_util::Result;

/// Deflate one page at `level` (0–9); `None` when the result is not smaller.
pub fn deflate_page(level: u32, page: &[u8]) -> Option<Vec<u8>> {
    let mut c = Compress::new(Compression::new(level.min(9)), true);
    // Anything not smaller than the page is useless: stop there.
    let mut out = Vec::with_capacity(page.len());
    match c.compress_vec(page, &mut out, FlushCompress::Finish) {
        Ok(Status::StreamEnd) if out.len() < page.len() => Some(out),
        _ => None,
    }
}

/// Inflate a page; anything but exactly one page of output is an error
/// (the output buffer is bounded, so no input can make it grow).
pub fn inflate_page(data: &[u8]) -> Result<Vec<u8>> {
    let mut d = Decompress::new(true);
    let mut out = Vec::with_capacity(PAGE_SIZE + 1);
    match d.decompress_vec(data, &mut out, FlushDecompress::Finish) {
        Ok(Status::StreamEnd) if out.len() == PAGE_SIZE && d.total_in() == data.len() as u64 => {
            Ok(out)
        }
        Ok(_) => Err(malformed("compressed page does not inflate to one page")),
        Err(_) => Err(malformed("corrupt compressed page")),
    }
}

/// What compressing a batch did, for the job stats.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Compressed {
    pub pages: u64,
    pub bytes: u64,
}

/// Run `f` over `items` split into at most `threads` contiguous chunks,
/// each on its own thread (one chunk runs on the caller's thread).
fn on_threads<T: Send, R: Send>(
    items: &mut [T],
    threads: u32,
    f: impl Fn(&mut [T]) -> R + Sync,
) -> Vec<R> {
    let n = (threads as usize).clamp(1, items.len().max(1));
    let per = items.len().div_ceil(n).max(1);
    std::thread::scope(|s| {
        let mut chunks = items.chunks_mut(per);
        let first = chunks.next();
        let handles: Vec<_> = chunks.map(|c| s.spawn(|| f(c))).collect();
        let mut out = Vec::with_capacity(n);
        if let Some(c) = first {
            out.push(f(c));
        }
        // A worker cannot panic on page data; a join error means a bug.
        out.extend(handles.into_iter().filter_map(|h| h.join().ok()));
        out
    })
}

/// Deflate the raw pages of a batch with `threads` workers.
pub fn compress_batch(pages: &mut [Page], level: u32, threads: u32) -> Compressed {
    on_threads(pages, threads, |chunk| {
        let mut done = Compressed::default();
        for p in chunk {
            if let PageData::Raw(raw) = &p.data {
                if let Some(z) = deflate_page(level, raw) {
                    done.pages += 1;
                    done.bytes += z.len() as u64;
                    p.data = PageData::Deflated(z);
                }
            }
        }
        done
    })
    .into_iter()
    .fold(Compressed::default(), |a, b| Compressed {
        pages: a.pages + b.pages,
        bytes: a.bytes + b.bytes,
    })
}

/// The hash of each page of a batch (inflating with `dthreads` workers),
/// in batch order.
pub fn hash_batch(pages: &mut [Page], dthreads: u32) -> Result<Vec<(u64, u64)>> {
    let deflated = pages
        .iter()
        .any(|p| matches!(p.data, PageData::Deflated(_)));
    let threads = if deflated { dthreads } else { 1 };
    let parts = on_threads(pages, threads, |chunk| {
        chunk
            .iter()
            .map(|p| {
                let h = match &p.data {
                    PageData::Zero => zero_page_hash(),
                    PageData::Raw(b) if b.len() == PAGE_SIZE => page_hash(b),
                    PageData::Raw(_) => return Err(malformed("short page")),
                    PageData::Deflated(z) => page_hash(&inflate_page(z)?),
                };
                Ok((p.index, h))
            })
            .collect::<Result<Vec<_>>>()
    });
    let mut out = Vec::with_capacity(pages.len());
    for part in parts {
        out.extend(part?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::super::memory::fill_page;
    use super::*;

    #[test]
    fn pages_round_trip_and_garbage_is_refused() {
        let mut page = vec![0u8; PAGE_SIZE];
        fill_page(1, 2, 3, 100, &mut page);
        let z = deflate_page(1, &page).expect("a compressible page shrinks");
        assert!(z.len() < PAGE_SIZE / 2, "{}", z.len());
        assert_eq!(inflate_page(&z).unwrap(), page);
        fill_page(1, 2, 3, 0, &mut page);
        assert!(
            deflate_page(9, &page).is_none(),
            "random bytes do not shrink"
        );
        assert!(inflate_page(&[1, 2, 3]).is_err());
        assert!(inflate_page(&z[..z.len() - 1]).is_err());
        // Two pages' worth of zeros: refused, not grown.
        let big = deflate_page(1, &[0u8; 2 * PAGE_SIZE]).unwrap();
        assert!(inflate_page(&big).is_err());
    }

    #[test]
    fn batches_use_threads_and_keep_order() {
        let mut pages: Vec<Page> = (0..64u64)
            .map(|i| {
                let mut b = vec![0u8; PAGE_SIZE];
                fill_page(9, i, 1, 50, &mut b);
                Page {
                    index: i,
                    data: if i % 5 == 0 {
                        PageData::Zero
                    } else {
                        PageData::Raw(b)
                    },
                }
            })
            .collect();
        let want: Vec<(u64, u64)> = {
            let mut plain = pages.clone();
            hash_batch(&mut plain, 1).unwrap()
        };
        let done = compress_batch(&mut pages, 1, 8);
        assert!(done.pages > 10 && done.pages < 64, "{done:?}");
        assert_eq!(hash_batch(&mut pages, 3).unwrap(), want);
        pages[3].data = PageData::Deflated(vec![0x78, 0x9c, 1]);
        assert!(hash_batch(&mut pages, 2).is_err());
    }
}
