// Loads libcurl on first use: see include/shim.h.
#include "shim.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>

struct goedge_curl_functions goedge_curl;
static char problem[512];
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void load(void) {
    void *library = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
    if (!library) {
        snprintf(problem, sizeof problem, "cannot load libcurl: %s", dlerror());
        return;
    }
#define FIND(field, name)                                                               \
    if (!(*(void **)&goedge_curl.field = dlsym(library, name))) {                       \
        snprintf(problem, sizeof problem, "libcurl.so.4 has no %s", name);              \
        return;                                                                         \
    }
    FIND(global_init, "curl_global_init")
    FIND(easy_init, "curl_easy_init")
    FIND(easy_cleanup, "curl_easy_cleanup")
    FIND(easy_setopt, "curl_easy_setopt")
    FIND(easy_pause, "curl_easy_pause")
    FIND(easy_strerror, "curl_easy_strerror")
    FIND(multi_init, "curl_multi_init")
    FIND(multi_cleanup, "curl_multi_cleanup")
    FIND(multi_add_handle, "curl_multi_add_handle")
    FIND(multi_remove_handle, "curl_multi_remove_handle")
    FIND(multi_perform, "curl_multi_perform")
    FIND(multi_poll, "curl_multi_poll")
    FIND(multi_wakeup, "curl_multi_wakeup")
    FIND(multi_info_read, "curl_multi_info_read")
    FIND(multi_strerror, "curl_multi_strerror")
    FIND(slist_append, "curl_slist_append")
    FIND(slist_free_all, "curl_slist_free_all")
#undef FIND
    if (goedge_curl.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        snprintf(problem, sizeof problem, "curl_global_init failed");
    }
}

const char *goedge_curl_load(void) {
    pthread_once(&once, load);
    return problem[0] ? problem : NULL;
}
