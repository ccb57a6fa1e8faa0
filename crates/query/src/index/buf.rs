//! [`Buf`]: the storage of every big column of the index — either a vector the build
//! filled, or a view into a memory-mapped column file ([`super::store`]). Either way it
//! reads as a slice, so the evaluator never knows which; a mapped one is page cache
//! shared between processes, not heap.

use std::fmt;
use std::sync::Arc;

use memmap2::Mmap;

/// Plain numbers a column file stores: any bit pattern is a valid value, the size
/// is fixed, and the alignment divides the file's section alignment (64).
///
/// # Safety
/// Implement only for types for which every bit pattern of `size_of::<Self>()`
/// bytes is a valid value.
pub unsafe trait Plain: Copy + Send + Sync + 'static {
    /// The type's tag in a column file's table of contents.
    const KIND: u8;
}

// SAFETY: integers: every bit pattern is a value.
unsafe impl Plain for u8 {
    const KIND: u8 = 1;
}
// SAFETY: as above.
unsafe impl Plain for u16 {
    const KIND: u8 = 2;
}
// SAFETY: as above.
unsafe impl Plain for u32 {
    const KIND: u8 = 3;
}
// SAFETY: as above.
unsafe impl Plain for i32 {
    const KIND: u8 = 4;
}
// SAFETY: as above.
unsafe impl Plain for i64 {
    const KIND: u8 = 5;
}
// SAFETY: as above.
unsafe impl Plain for u64 {
    const KIND: u8 = 6;
}

/// What keeps a [`Buf`]'s memory alive.
enum Keep<T> {
    Owned(Vec<T>),
    Mapped(Arc<Mmap>),
}

/// A read-only array of plain numbers: owned, or a view into a mapped file.
pub struct Buf<T: Plain> {
    ptr: *const T,
    len: usize,
    keep: Keep<T>,
}

// SAFETY: a `Buf` is read-only after construction, and what it points into (a
// vector's heap block or a read-only map) lives as long as `keep`, which it owns.
unsafe impl<T: Plain> Send for Buf<T> {}
// SAFETY: as above: shared access is read-only.
unsafe impl<T: Plain> Sync for Buf<T> {}

impl<T: Plain> Buf<T> {
    /// A view of `len` values at byte `offset` of `map`; `None` when that range is
    /// outside the map or misaligned for `T`.
    pub(crate) fn mapped(map: &Arc<Mmap>, offset: usize, len: usize) -> Option<Buf<T>> {
        let bytes = len.checked_mul(size_of::<T>())?;
        let end = offset.checked_add(bytes)?;
        if end > map.len() {
            return None;
        }
        let ptr = map.as_ptr().wrapping_add(offset);
        if !(ptr as usize).is_multiple_of(align_of::<T>()) {
            return None;
        }
        Some(Buf {
            ptr: ptr.cast(),
            len,
            keep: Keep::Mapped(map.clone()),
        })
    }

    /// The values.
    #[inline]
    pub fn as_slice(&self) -> &[T] {
        // SAFETY: `ptr..ptr+len` lies inside the vector or the map `keep` holds
        // (checked in `mapped`), is aligned for `T`, is never written while shared,
        // and any bit pattern is a `T` (`Plain`).
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }

    /// The values as bytes (what a column file stores).
    pub fn as_bytes(&self) -> &[u8] {
        // SAFETY: the same memory as `as_slice`, read as bytes; `u8` has no alignment.
        unsafe { std::slice::from_raw_parts(self.ptr.cast(), self.len * size_of::<T>()) }
    }

    /// Bytes held on the heap (a mapped buffer holds none: it is page cache).
    pub fn heap_bytes(&self) -> usize {
        match &self.keep {
            Keep::Owned(v) => v.capacity() * size_of::<T>(),
            Keep::Mapped(_) => 0,
        }
    }

    /// Whether the values are a view into a mapped file.
    pub fn is_mapped(&self) -> bool {
        matches!(self.keep, Keep::Mapped(_))
    }

    /// The mapped file this buffer is a view into, if any.
    pub(crate) fn map(&self) -> Option<&Arc<Mmap>> {
        match &self.keep {
            Keep::Mapped(m) => Some(m),
            Keep::Owned(_) => None,
        }
    }
}

impl<T: Plain> From<Vec<T>> for Buf<T> {
    fn from(v: Vec<T>) -> Buf<T> {
        Buf {
            ptr: v.as_ptr(),
            len: v.len(),
            keep: Keep::Owned(v),
        }
    }
}

impl<T: Plain> Default for Buf<T> {
    fn default() -> Buf<T> {
        Buf::from(Vec::new())
    }
}

impl<T: Plain> Clone for Buf<T> {
    fn clone(&self) -> Buf<T> {
        match &self.keep {
            Keep::Owned(v) => Buf::from(v.clone()),
            Keep::Mapped(m) => Buf {
                ptr: self.ptr,
                len: self.len,
                keep: Keep::Mapped(m.clone()),
            },
        }
    }
}

impl<T: Plain> std::ops::Deref for Buf<T> {
    type Target = [T];
    #[inline]
    fn deref(&self) -> &[T] {
        self.as_slice()
    }
}

impl<T: Plain + fmt::Debug> fmt::Debug for Buf<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Buf({} × {}, {})",
            self.len,
            std::any::type_name::<T>(),
            if self.is_mapped() { "mapped" } else { "heap" }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_owned_buffer_reads_as_its_vector_and_clones_deeply() {
        let b = Buf::from(vec![1u32, 2, 3]);
        let c = b.clone();
        drop(b);
        assert_eq!(&*c, &[1, 2, 3]);
        assert_eq!(c.as_bytes().len(), 12);
        assert!(!c.is_mapped());
        assert_eq!(c.heap_bytes(), 12);
    }
}
