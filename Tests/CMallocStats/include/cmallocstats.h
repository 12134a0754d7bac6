#include <stddef.h>

/// Bytes glibc's malloc has handed out and not yet taken back (mallinfo2's uordblks), for
/// tests that check the live-state accounting against the allocator.
size_t rs_malloc_in_use_bytes(void);
