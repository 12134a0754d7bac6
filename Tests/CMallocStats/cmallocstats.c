#include <malloc.h>
#include "cmallocstats.h"

size_t rs_malloc_in_use_bytes(void) {
    struct mallinfo2 info = mallinfo2();
    return info.uordblks;
}
