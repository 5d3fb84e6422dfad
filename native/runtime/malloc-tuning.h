// Keeps freed tensor memory in the process heap instead of returning it to the kernel.
//
// Every op returns a new typed array, and Node allocates typed arrays with calloc. glibc serves blocks of
// 128 KiB and up with fresh mmap()s and unmaps them on free, so each batch's activations and gradients
// fault in fresh pages: about 2-3 us per 4 KiB page on this VM, more than the arithmetic of a small
// network. Raising the mmap threshold to glibc's maximum (32 MiB) and the trim threshold keeps those
// blocks in the heap for the next batch. Process-wide, so it can be turned off: CONVKIT_MALLOC_TUNING=0.
#pragma once

// Applies the tuning once per process (no-op off glibc or when disabled). Returns whether it is active.
bool ck_tune_malloc();
