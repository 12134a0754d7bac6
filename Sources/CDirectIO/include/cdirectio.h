#include <stdint.h>

/// Direct, synchronous writes for the write-ahead log: Swift's Glibc module exports neither
/// O_DIRECT (a _GNU_SOURCE flag) nor statx's direct-I/O alignment fields.

/// Opens the existing file `path` for writing with O_DIRECT | O_DSYNC | O_CLOEXEC when its
/// filesystem reports the alignment direct I/O needs (statx(2) STATX_DIOALIGN, Linux 6.1 and
/// later). Returns the descriptor and sets `*alignment` to the larger of the memory and file
/// offset alignments (bytes; a power of two); -1 with errno when the open fails; -2 when the
/// filesystem reports no direct-I/O support (tmpfs, for one), and nothing is left open.
int rs_open_direct_dsync(const char *path, uint32_t *alignment);
