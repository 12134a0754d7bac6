#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cdirectio.h"

int rs_open_direct_dsync(const char *path, uint32_t *alignment) {
    int fd = open(path, O_WRONLY | O_DIRECT | O_DSYNC | O_CLOEXEC);
    if (fd < 0) return -1;
    struct statx info = {0};
    /* A filesystem that accepts the flag without reporting alignments (tmpfs) gets buffered
       writes: there is no alignment to honour, and nothing to bypass. */
    if (statx(fd, "", AT_EMPTY_PATH, STATX_DIOALIGN, &info) != 0 || !(info.stx_mask & STATX_DIOALIGN) ||
        info.stx_dio_mem_align == 0 || info.stx_dio_offset_align == 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -2;
    }
    uint32_t a = info.stx_dio_mem_align > info.stx_dio_offset_align ? info.stx_dio_mem_align : info.stx_dio_offset_align;
    *alignment = a;
    return fd;
}
