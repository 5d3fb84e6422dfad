// Keeps freed tensor memory in the process heap instead of returning it to the kernel.
//
// Every op returns a new typed array, and Node allocates typed arrays with calloc. glibc serves blocks of
// 128 KiB and up with fresh mmap()s and unmaps them on free, so each batch's activations and gradients
// fault in fresh pages: about 2-3 us per 4 KiB page on this VM, more than the arithmetic of a small
// network. Raising the mmap threshold to glibc's maximum (32 MiB) and the trim threshold keeps those
// blocks in the heap for the next batch. Process-wide, so it can be turned off: CONVKIT_MALLOC_TUNING=0.
#pragma once

#include <cstddef>

// Applies the tuning once per process (no-op off glibc or when disabled). Returns whether it is active.
bool ck_tune_malloc();

// Asks the kernel to back the whole 2 MiB pages inside [p, p + bytes) with transparent huge pages. Blocks of
// 32 MiB and up are fresh mmap()s whatever the tuning above, and such a block then faults in 2 MiB at a time
// instead of 4 KiB (docs/kernels.md, "Fresh outputs"). Advice only: contents and ownership do not change.
// Returns the bytes advised (0 off Linux, when no whole 2 MiB page fits, or when the kernel refuses).
size_t ck_advise_huge_pages(void* p, size_t bytes);
