#ifndef GOEDGE_CFILEREAD_SHIM_H
#define GOEDGE_CFILEREAD_SHIM_H

#include <errno.h>
#include <sys/types.h>
#include <sys/uio.h>

// preadv2 and RWF_NOWAIT: glibc declares them only for _GNU_SOURCE, which
// Swift's Glibc module is built without. Declared here as glibc (2.26+) has
// them; the flag's value is Linux's (4.14+).
extern ssize_t preadv2(int fd, const struct iovec *iov, int iovcnt, off_t offset, int flags);

#define GOEDGE_RWF_NOWAIT 0x00000008

// Reads what the page cache holds now, never waiting for the disk: the
// bytes read, 0 at the end of the file, or -1 with errno (EAGAIN: the
// bytes are not in memory; EOPNOTSUPP: the file system cannot tell).
static inline ssize_t goedge_pread_cached(int fd, void *buffer, size_t count, off_t offset) {
    struct iovec vector = { buffer, count };
    return preadv2(fd, &vector, 1, offset, GOEDGE_RWF_NOWAIT);
}

#endif
