#ifndef GOEDGE_CDYNAMICLINKER_SHIM_H
#define GOEDGE_CDYNAMICLINKER_SHIM_H

#include <elf.h>
#include <stddef.h>

// The dynamic loader's list of loaded objects (dl_iterate_phdr). Glibc
// declares it, and struct dl_phdr_info, only for _GNU_SOURCE, which Swift's
// Glibc module is built without; this is the leading part of that struct
// (the fields goedge reads), laid out as <link.h> has it since glibc 2.2.4.
typedef struct {
    Elf64_Addr dlpi_addr;
    const char *dlpi_name;
    const Elf64_Phdr *dlpi_phdr;
    Elf64_Half dlpi_phnum;
} goedge_loaded_object;

extern int dl_iterate_phdr(int (*callback)(goedge_loaded_object *object, size_t size, void *data), void *data);

#endif
