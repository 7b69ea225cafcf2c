// libsystemd's sd-daemon API: socket activation (sd_listen_fds*) and
// service notification (sd_notify); and sd_journal_sendv for entries with fields. The functions import directly; the
// variadic sd_notifyf does not, so Swift formats the message itself.
#ifndef GOEDGE_CSYSTEMD_SHIM_H
#define GOEDGE_CSYSTEMD_SHIM_H

#include <systemd/sd-daemon.h>
#include <systemd/sd-journal.h>

static inline int goedge_sd_listen_fds_start(void) { return SD_LISTEN_FDS_START; }

#endif
