#ifndef GOEDGE_CINFLATE_SHIM_H
#define GOEDGE_CINFLATE_SHIM_H

#include <zlib.h>

// inflateInit2 is a macro (it passes the library's version and the stream's
// size for a check): Swift cannot call it.
static inline int goedge_inflate_init_raw(z_stream *stream) {
    return inflateInit2(stream, -MAX_WBITS);
}

#endif
