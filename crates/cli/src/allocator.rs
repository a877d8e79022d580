//! The global allocator: mimalloc (glibc's malloc family was about 15 % of the server's CPU
//! under load; with mimalloc a turn costs about 9 % less, docs/performance.md).
//!
//! The `mimalloc` crate asks for every block with `mi_malloc_aligned`, whatever its alignment.
//! mimalloc 3 takes its slow path for such a request above 1 KiB whose size class is not a
//! power of two (it over-allocates and marks the page), which was about a tenth of all
//! requests under load. Alignments that `mi_malloc` gives anyway (up to 16 bytes, and never
//! more than the size, as Rust's own `System` allocator decides) go to the plain functions.

use libmimalloc_sys::{
    mi_free, mi_malloc, mi_malloc_aligned, mi_realloc, mi_realloc_aligned, mi_zalloc, mi_zalloc_aligned,
};
use std::alloc::{GlobalAlloc, Layout};
use std::ffi::c_void;

/// The alignment of every block `mi_malloc` returns of at least this size (`MI_MAX_ALIGN_SIZE`
/// on 64-bit targets); smaller blocks are aligned to their size.
const PLAIN_ALIGN: usize = 16;

pub struct Mimalloc;

fn plain(align: usize, size: usize) -> bool {
    align <= PLAIN_ALIGN && align <= size
}

// SAFETY: every function hands the layout's size and alignment to mimalloc, which returns
// blocks of at least that size and alignment (or null), and frees any block it returned.
unsafe impl GlobalAlloc for Mimalloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if plain(layout.align(), layout.size()) {
            mi_malloc(layout.size()) as *mut u8
        } else {
            mi_malloc_aligned(layout.size(), layout.align()) as *mut u8
        }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if plain(layout.align(), layout.size()) {
            mi_zalloc(layout.size()) as *mut u8
        } else {
            mi_zalloc_aligned(layout.size(), layout.align()) as *mut u8
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, _layout: Layout) {
        mi_free(ptr as *mut c_void);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if plain(layout.align(), new_size) {
            mi_realloc(ptr as *mut c_void, new_size) as *mut u8
        } else {
            mi_realloc_aligned(ptr as *mut c_void, new_size, layout.align()) as *mut u8
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Blocks of every size class, plain and over-aligned, come back aligned, keep their
    /// contents across `realloc` and are zeroed when asked.
    #[test]
    fn blocks_are_aligned_and_keep_their_contents() {
        let a = Mimalloc;
        for size in [1usize, 3, 8, 12, 16, 24, 100, 1000, 1025, 1500, 4096, 70_000, 1 << 20] {
            for align in [1usize, 2, 8, 16, 32, 64, 128, 4096] {
                let layout = Layout::from_size_align(size, align).expect("a layout");
                // SAFETY: a non-zero size; the block is written within its size and freed once.
                unsafe {
                    let zeroed = a.alloc_zeroed(layout);
                    assert!(!zeroed.is_null());
                    assert_eq!(zeroed as usize % align, 0, "size {size}, align {align}");
                    assert!(std::slice::from_raw_parts(zeroed, size).iter().all(|b| *b == 0));
                    a.dealloc(zeroed, layout);

                    let p = a.alloc(layout);
                    assert!(!p.is_null());
                    assert_eq!(p as usize % align, 0, "size {size}, align {align}");
                    std::ptr::write_bytes(p, 0xAB, size);
                    let bigger = size * 3 + 5;
                    let q = a.realloc(p, layout, bigger);
                    assert_eq!(q as usize % align, 0, "realloc to {bigger}, align {align}");
                    assert!(std::slice::from_raw_parts(q, size).iter().all(|b| *b == 0xAB));
                    a.dealloc(q, Layout::from_size_align(bigger, align).expect("a layout"));
                }
            }
        }
    }
}
